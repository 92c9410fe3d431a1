import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { documents } from '../src/config/define.js';
import { runIngest } from '../src/ingest/run.js';
import { detectType, extractInvoice, parseAmount, parseDate } from '../src/sources/documents/fields.js';
import { quality } from '../src/sources/documents/ocr.js';
import { type GeneratedDocument, generateDocuments } from './support/invoices.js';
import { ROOT, cli, run, tempDir } from './support/helpers.js';
import { openTestLake, rows } from './support/project.js';

// The documents source on invoices the suite generates (test/support/invoices.ts) whose true fields are known: PDF
// in French and English layouts, a PNG, a noisy and slightly turned JPEG scan, a page turned a quarter, a two-page
// TIFF, an invoice whose totals do not add up, a CV, and a file that is no document.
let generated: GeneratedDocument[];
beforeAll(async () => {
  generated = await generateDocuments();
}, 60_000);

describe('invoice fields from text', () => {
  it('reads French and English amounts, dates and labels', () => {
    expect(['1 620,00 €', '1\u00a0620,00', '1.620,00', '1,620.00', '$1,620.00', '1620', '1620.5', '-12,30'].map(parseAmount)).toEqual([
      1620, 1620, 1620, 1620, 1620, 1620, 1620.5, -12.3,
    ]);
    expect(parseAmount('12/03')).toBeUndefined();
    expect(['15/03/2024', '2024-03-15', '15 mars 2024', '1er février 2024', 'March 5, 2024', '5 Mar 2024'].map((d) => parseDate(d))).toEqual([
      '2024-03-15',
      '2024-03-15',
      '2024-03-15',
      '2024-02-01',
      '2024-03-05',
      '2024-03-05',
    ]);
    expect(parseDate('03/05/2024', true)).toBe('2024-03-05');
    expect(parseDate('31/02/2024')).toBeUndefined();
    // The seed's own stored result read "Mon" as the invoice number and missed the TTC.
    const seedCase = extractInvoice(
      'Mon Entreprise SARL\nFacture n° FA-2026-031\nDate : 26/02/2026\nTotal HT 1 350,00 €\nTVA 20 % 270,00 €\nTotal TTC 1 620,00 €',
    );
    expect(seedCase.fields).toEqual({
      invoice_number: 'FA-2026-031',
      invoice_date: '2026-02-26',
      total_ht: 1350,
      total_tva: 270,
      total_ttc: 1620,
      currency: 'EUR',
      vendor: 'Mon Entreprise SARL',
    });
    expect(seedCase.reviewReason).toBeUndefined();
    const derived = extractInvoice('Invoice #A-12\nSubtotal: 100.00\nTotal due: 120.00 EUR');
    expect(derived.fields).toMatchObject({ total_ht: 100, total_tva: 20, total_ttc: 120 });
    expect(derived.warnings).toContain('TVA derived from TTC - HT');
    expect(extractInvoice('Facture 77\nTotal HT 10,00\nTVA 2,00\nTotal TTC 13,00').reviewReason).toBe('totals do not add up: HT 10 + TVA 2 = 12, not TTC 13');
  });

  it('is not fooled by what only looks like an amount, a date or a vendor', () => {
    // An IBAN and a VAT number are no TVA; the invoice's own date beats a delivery date.
    expect(
      extractInvoice(
        'ACME SARL\nFacture n° F-1\nDate de livraison : 10/03/2024\nDate de facture : 15/03/2024\nTotal HT : 1 350,00 €\nTVA 20 % : 270,00 €\nTotal TTC : 1 620,00 €\nIBAN FR7630006000011234567890189\nN° TVA intracommunautaire : FR 40 123456789',
      ).fields,
    ).toMatchObject({ invoice_date: '2024-03-15', total_tva: 270, total_ttc: 1620 });
    // "TVA non applicable, art. 293 B du CGI": no TVA, not 293.
    expect(
      extractInvoice('Atelier Martin EI\nFacture n° 7\nTotal HT : 500,00 €\nTVA non applicable, art. 293 B du CGI\nTotal TTC : 500,00 €').fields.total_tva,
    ).toBe(0);
    // A customer's block is not the vendor; a total that is not HT + TVA goes to review.
    const us = extractInvoice(
      'Jane Doe Design Studio\nBill To: Acme Widgets Ltd\nInvoice # 42\nSubtotal $1,250.00\nTax $100.00\nShipping $35.00\nTotal $1,385.00',
    );
    expect(us.fields.vendor).toBe('Jane Doe Design Studio');
    expect(us.reviewReason).toBe('the total to pay (1385) is not the TTC (1350)');
    // Credit notes, and dates or payment terms next to an amount.
    expect(extractInvoice('AVOIR SAS\nFacture n° AV-3\nTotal HT : - 100,00 €\nTVA : - 20,00 €\nTotal TTC : - 120,00 €').fields).toMatchObject({
      total_ht: -100,
      total_tva: -20,
      total_ttc: -120,
    });
    expect(extractInvoice('X Ltd\nInvoice # 9\nAmount due: £1,200.00 by 31 March 2024\nSubtotal: £1,000.00\nVAT: £200.00').fields.total_ttc).toBe(1200);
    expect(parseAmount('7630006000011234567890189')).toBeUndefined();
    expect([parseAmount('(120,00)'), parseAmount('−120,00')]).toEqual([-120, -120]);
  });

  it("types documents by seed 000's keyword rules, and tells words from a sideways reading", () => {
    expect(detectType('FACTURE n° 12 — Total TTC, TVA, paiement à 30 jours')).toBe('invoice');
    expect(detectType('Curriculum vitae — expérience, formation, diplôme')).toBe('cv');
    expect(detectType('Contrat de prestation : article 1, clause de résiliation, signature des parties')).toBe('contract');
    expect(detectType('bonjour')).toBe('generic');
    expect(quality('Total TTC : 1 620,00 €')).toBeGreaterThan(0.7);
    expect(quality('d 4 O OU U U Rk > o < 9 9» 9 @® 9')).toBeLessThan(0.3);
  });
});

describe('documents source (Tesseract)', () => {
  it('recognises every kind of document, extracts the fields, reviews what needs it, quarantines what is no document', { timeout: 300_000 }, async () => {
    const { lake, dir } = await openTestLake({ sources: { scans: documents({ inbox: 'inbox', into: 'bronze.documents' }) } });
    mkdirSync(path.join(dir, 'inbox'), { recursive: true });
    for (const doc of generated) writeFileSync(path.join(dir, 'inbox', doc.name), doc.bytes);
    writeFileSync(path.join(dir, 'inbox', 'notes.pdf'), 'these are notes, not a PDF\n');
    const progress: number[] = [];
    const report = await runIngest(lake, [], { onProgress: (p) => progress.push(p.done) });
    const source = report.sources[0]!;
    expect(source.rows).toBe(generated.length);
    expect(source.quarantined.map((q) => [q.path, q.reasonCode])).toEqual([['inbox/notes.pdf', 'binary_content']]);
    expect(progress.length).toBeGreaterThan(generated.length);

    const landed = await rows(
      lake,
      `SELECT file, pages, pages_read, doc_type, confidence, review_reason, fields, warnings, page_texts FROM bronze.documents ORDER BY file`,
    );
    const byName = new Map(landed.map((r) => [path.basename(String(r.file)), r]));
    // Field-level accuracy over the invoices, as the docs report it.
    let right = 0;
    let total = 0;
    const misses: string[] = [];
    for (const doc of generated) {
      const row = byName.get(doc.name)!;
      expect(row, doc.name).toBeDefined();
      expect(row.doc_type, doc.name).toBe(doc.type);
      if (!doc.truth) continue;
      const fields = row.fields as Record<string, unknown>;
      for (const [k, want] of Object.entries(doc.truth)) {
        total++;
        let got = fields[k];
        if (got instanceof Date) got = got.toISOString().slice(0, 10);
        if (typeof want === 'number') got = got === null ? null : Number(got);
        if (got === want) right++;
        else misses.push(`${doc.name} ${k}: ${JSON.stringify(got)} (true: ${JSON.stringify(want)})`);
      }
    }
    console.log(
      `documents source: ${right}/${total} invoice fields right (${((100 * right) / total).toFixed(1)} %)${misses.length ? `; missed: ${misses.join('; ')}` : ''}`,
    );
    // The born-digital PDFs and the clean PNG: every field.
    for (const name of ['fr-acme.pdf', 'en-blue-harbor.pdf', 'fr-dupont.png']) {
      expect(
        misses.filter((m) => m.startsWith(name)),
        name,
      ).toEqual([]);
    }
    expect(right / total).toBeGreaterThanOrEqual(0.9);
    // The page turned a quarter was read turned back; the TIFF's two pages were both read.
    expect(JSON.stringify(byName.get('fr-acme-sideways.png')!.warnings)).toContain('rotated');
    expect(byName.get('fr-acme-2-pages.tif')).toMatchObject({ pages: 2, pages_read: 2 });
    // Review: the totals that do not add up, with the reason; the rest goes on to silver.
    const review = await rows(lake, 'SELECT file, review_reason FROM bronze.documents_review ORDER BY file');
    expect(review).toContainEqual({ file: 'inbox/fr-martin-bad-totals.pdf', review_reason: 'totals do not add up: HT 100 + TVA 20 = 120, not TTC 130' });
    expect(review.every((r) => r.review_reason)).toBe(true);
    // Inbox: the committed documents moved to processed/; the refused one stays, its copy in quarantine.
    expect(readdirSync(path.join(dir, 'inbox')).sort()).toEqual(['notes.pdf', 'processed']);
    expect(readdirSync(path.join(dir, 'inbox', 'processed')).sort()).toEqual(generated.map((d) => d.name).sort());

    // The same content dropped again is not read twice; it moves to processed/ under another name.
    writeFileSync(path.join(dir, 'inbox', 'again.pdf'), generated[0]!.bytes);
    const again = await runIngest(lake);
    expect(again.sources[0]).toMatchObject({ rows: 0, unchanged: 1, stillQuarantined: [{ path: 'inbox/notes.pdf' }] });
    expect(existsSync(path.join(dir, 'inbox', 'again.pdf'))).toBe(false);
    expect((await rows(lake, 'SELECT count(*) AS n FROM bronze.documents'))[0]!.n).toBe(generated.length);
  });
});

describe('documents source: offline', () => {
  it('reads a scan through the CLI without reaching any host: trained data and engine come from node_modules', { timeout: 120_000 }, async () => {
    const dir = tempDir('trib-docs-offline-');
    writeFileSync(path.join(dir, 'tributary.config.mjs'), "export default { sources: { scans: { kind: 'documents', glob: 'in/*', into: 'bronze.docs' } } };\n");
    mkdirSync(path.join(dir, 'in'));
    writeFileSync(path.join(dir, 'in', generated[2]!.name), generated[2]!.bytes);
    const attempts = path.join(dir, 'network.log');
    writeFileSync(attempts, '');
    const result = await cli(['ingest', '--json', '--project', dir], {
      env: { NODE_OPTIONS: `--require ${path.join(ROOT, 'test/fixtures/no-network.cjs')}`, TRIBUTARY_NETWORK_LOG: attempts },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).sources[0].rows).toBe(1);
    expect(readFileSync(attempts, 'utf8')).toBe('');
    // The guard itself sees what it must: a fetch and a connection from a worker thread alike.
    const probe = await run(
      process.execPath,
      [
        '--require',
        path.join(ROOT, 'test/fixtures/no-network.cjs'),
        '-e',
        "fetch('https://example.org/x').catch(() => {}); new (require('node:worker_threads').Worker)(\"require('node:net').connect(443, 'example.net').on('error', () => {})\", { eval: true })",
      ],
      { env: { TRIBUTARY_NETWORK_LOG: attempts } },
    );
    expect(probe.code).not.toBeNull();
    expect(readFileSync(attempts, 'utf8').split('\n').filter(Boolean).sort()).toEqual(['connect example.net', 'fetch https://example.org/x']);
  });
});

describe('documents source: the inbox', () => {
  it('reads any extension case, reads a duplicate once and moves it only once its content is committed', { timeout: 120_000 }, async () => {
    const { lake, dir } = await openTestLake({ sources: { inbox: documents({ inbox: 'in', into: 'bronze.docs' }) } });
    mkdirSync(path.join(dir, 'in'));
    const cv = generated.find((d) => d.type === 'cv')!;
    writeFileSync(path.join(dir, 'in', 'Resume.Pdf'), cv.bytes);
    writeFileSync(path.join(dir, 'in', 'resume-copy.PDF'), cv.bytes);
    writeFileSync(path.join(dir, 'in', 'notes.txt'), 'not a document');
    const first = await runIngest(lake);
    expect(first.sources[0]).toMatchObject({
      rows: 1,
      skipped: [{ path: 'in/resume-copy.PDF', reason: expect.stringMatching(/same content as another document/) }],
    });
    expect(readdirSync(path.join(dir, 'in')).sort()).toEqual(['notes.txt', 'processed', 'resume-copy.PDF']);
    // The copy left behind is work for the next run (its content is committed: it only moves).
    const connector = (await import('../src/sources/registry.js')).sourceConnector('documents');
    const plan = await connector.plan({ lake, name: 'inbox' }, lake.config.sources.inbox!);
    expect(plan.upToDate).toBe(false);
    const second = await runIngest(lake);
    expect(second.sources[0]).toMatchObject({ rows: 0, unchanged: 1 });
    expect(readdirSync(path.join(dir, 'in')).sort()).toEqual(['notes.txt', 'processed']);
    expect((await connector.plan({ lake, name: 'inbox' }, lake.config.sources.inbox!)).upToDate).toBe(true);
  });
});
