import { PDFDocument, StandardFonts, degrees } from 'pdf-lib';
import UTIF from 'utif2';
import { canvas, openPages } from '../../src/sources/documents/render.js';

const { createCanvas, loadImage } = canvas;
import type { InvoiceFields } from '../../src/sources/documents/fields.js';

/**
 * Invoices generated for the documents source's tests, with the fields they truly hold: PDF documents in a few
 * layouts (French and English), and scans made from them (PNG, a noisy and slightly turned JPEG, a page turned a
 * quarter, a two-page TIFF).
 */

export interface GeneratedDocument {
  name: string;
  bytes: Buffer;
  /** The fields an invoice holds (null: not an invoice). */
  truth: InvoiceFields | null;
  type: string;
}

type Line = { text: string; x?: number; size?: number; bold?: boolean };

async function pdf(pages: Line[][]): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const regular = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  for (const lines of pages) {
    const page = doc.addPage([595, 842]);
    let y = 790;
    for (const line of lines) {
      if (line.text) page.drawText(line.text, { x: line.x ?? 56, y, size: line.size ?? 12, font: line.bold ? bold : regular, rotate: degrees(0) });
      y -= (line.size ?? 12) * 1.9;
    }
  }
  return Buffer.from(await doc.save());
}

const NBSP = '\u00a0';

const FR_A: InvoiceFields = {
  invoice_number: 'FA-2024-0117',
  invoice_date: '2024-03-15',
  total_ht: 1350,
  total_tva: 270,
  total_ttc: 1620,
  currency: 'EUR',
  vendor: 'ACME Fournitures SARL',
};
const frA = (f: InvoiceFields): Line[] => [
  { text: f.vendor!, size: 16, bold: true },
  { text: '12 rue de la Paix, 75002 Paris' },
  { text: 'SIRET 552 100 554 00012' },
  { text: '' },
  { text: `FACTURE N° ${f.invoice_number}`, size: 14, bold: true },
  { text: 'Date : 15/03/2024' },
  { text: 'Client : Librairie du Centre, 4 place Bellecour, Lyon' },
  { text: '' },
  { text: 'Désignation                               Qté         Prix HT' },
  { text: 'Ramette papier A4 80 g                     10          45,00 €' },
  { text: `Cartouches d'encre noire                    3        1${NBSP}305,00 €` },
  { text: '' },
  { text: `Total HT : 1${NBSP}350,00 €`, x: 330 },
  { text: 'TVA 20 % : 270,00 €', x: 330 },
  { text: `Total TTC : 1${NBSP}620,00 €`, x: 330, bold: true },
  { text: '' },
  { text: 'Paiement par virement à 30 jours. Merci de votre confiance.' },
];

const EN_B: InvoiceFields = {
  invoice_number: 'INV-88231',
  invoice_date: '2024-03-05',
  total_ht: 1250,
  total_tva: 100,
  total_ttc: 1350,
  currency: 'USD',
  vendor: 'Blue Harbor Supplies Ltd',
};
const enB = (f: InvoiceFields): Line[] => [
  { text: 'INVOICE', size: 20, bold: true, x: 400 },
  { text: f.vendor!, size: 14, bold: true },
  { text: '200 Harbor Street, Boston, MA 02110' },
  { text: '' },
  { text: `Invoice # ${f.invoice_number}` },
  { text: 'Invoice date: March 5, 2024' },
  { text: 'Due date: April 4, 2024' },
  { text: 'Bill to: Northwind Traders, Seattle' },
  { text: '' },
  { text: 'Description                         Qty      Amount' },
  { text: 'Office chairs                         5     $750.00' },
  { text: 'Standing desk                         1     $500.00' },
  { text: '' },
  { text: 'Subtotal: $1,250.00', x: 350 },
  { text: 'Sales tax (8%): $100.00', x: 350 },
  { text: 'Total due: $1,350.00', x: 350, bold: true },
];

const FR_C: InvoiceFields = {
  invoice_number: '2024-0042',
  invoice_date: '2024-02-02',
  total_ht: 980.5,
  total_tva: 196.1,
  total_ttc: 1176.6,
  currency: 'EUR',
  vendor: 'Atelier Dupont SAS',
};
const frC = (f: InvoiceFields): Line[] => [
  { text: f.vendor!, size: 15, bold: true },
  { text: '8 avenue Jean Jaurès, 69007 Lyon' },
  { text: '' },
  { text: `Facture numéro : ${f.invoice_number}` },
  { text: 'Date de facture : 2 février 2024' },
  { text: 'Échéance : 2 mars 2024' },
  { text: '' },
  { text: 'Réparation de mobilier                          980,50' },
  { text: '' },
  { text: 'Total HT                                      980,50 €' },
  { text: 'TVA (20 %)                                    196,10 €' },
  { text: `Net à payer                                 1${NBSP}176,60 €`, bold: true },
];

const BAD: InvoiceFields = {
  invoice_number: 'F-7781',
  invoice_date: '2024-01-10',
  total_ht: 100,
  total_tva: 20,
  total_ttc: 130,
  currency: 'EUR',
  vendor: 'Quincaillerie Martin EURL',
};
const bad = (f: InvoiceFields): Line[] => [
  { text: f.vendor!, size: 15, bold: true },
  { text: '' },
  { text: `Facture n° ${f.invoice_number}` },
  { text: 'Date : 10/01/2024' },
  { text: '' },
  { text: 'Total HT : 100,00 €' },
  { text: 'TVA 20 % : 20,00 €' },
  { text: 'Total TTC : 130,00 €' },
];

const cv: Line[] = [
  { text: 'Claire Moreau', size: 18, bold: true },
  { text: 'Curriculum vitae' },
  { text: '' },
  { text: 'Expérience professionnelle', bold: true },
  { text: '2019-2024 : ingénieure données, Lyon' },
  { text: '' },
  { text: 'Formation', bold: true },
  { text: 'Diplôme d’ingénieur, INSA Lyon, 2019' },
  { text: '' },
  { text: 'Compétences : SQL, Python, statistiques' },
];

async function firstPagePng(bytes: Buffer, dpi = 200): Promise<Buffer> {
  const pages = await openPages(bytes, 'application/pdf', dpi);
  try {
    return await pages.image(0);
  } finally {
    await pages.close();
  }
}

/** A scan: turned by `angle` degrees, with `speckles` of the pixels set black or white, as JPEG or PNG. */
async function scan(png: Buffer, options: { angle: number; speckles: number; jpeg?: boolean }): Promise<Buffer> {
  const image = await loadImage(png);
  const quarter = Math.abs(options.angle) === 90;
  const canvas = createCanvas(quarter ? image.height : image.width, quarter ? image.width : image.height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = 'white';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.translate(canvas.width / 2, canvas.height / 2);
  ctx.rotate((options.angle * Math.PI) / 180);
  ctx.drawImage(image, -image.width / 2, -image.height / 2);
  if (options.speckles > 0) {
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height);
    // A fixed pseudo-random sequence: the same scan at every run.
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < data.data.length; i += 4) {
      if (random() < options.speckles) data.data[i] = data.data[i + 1] = data.data[i + 2] = random() < 0.5 ? 0 : 255;
    }
    ctx.putImageData(data, 0, 0);
  }
  return options.jpeg ? canvas.toBuffer('image/jpeg', 85) : canvas.toBuffer('image/png');
}

/** A multi-page TIFF (uncompressed RGBA strips, one page per image), written with UTIF's directory encoder. */
async function tiff(pngs: Buffer[]): Promise<Buffer> {
  const pages: { width: number; height: number; rgba: Uint8Array }[] = [];
  for (const png of pngs) {
    const image = await loadImage(png);
    const canvas = createCanvas(image.width, image.height);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(image, 0, 0);
    pages.push({ width: image.width, height: image.height, rgba: new Uint8Array(ctx.getImageData(0, 0, image.width, image.height).data) });
  }
  const HEADER = 4096; // the directories fit well within it; pixel data follows
  const offsets: number[] = [];
  let at = HEADER;
  for (const p of pages) {
    offsets.push(at);
    at += p.rgba.length;
  }
  const ifds = pages.map(
    (p, i) =>
      ({
        t256: [p.width],
        t257: [p.height],
        t258: [8, 8, 8, 8],
        t259: [1],
        t262: [2],
        t273: [offsets[i]!],
        t277: [4],
        t278: [p.height],
        t279: [p.rgba.length],
        t284: [1],
        t338: [1],
      }) as unknown as UTIF.IFD,
  );
  const header = new Uint8Array(UTIF.encode(ifds));
  const out = Buffer.alloc(at);
  out.set(header, 0);
  for (const [i, p] of pages.entries()) out.set(p.rgba, offsets[i]!);
  return out;
}

/** The test's documents, generated afresh (deterministically) at each run. */
export async function generateDocuments(): Promise<GeneratedDocument[]> {
  const frApdf = await pdf([frA(FR_A)]);
  const enBpdf = await pdf([enB(EN_B)]);
  const frCpdf = await pdf([frC(FR_C)]);
  const frCpng = await firstPagePng(frCpdf);
  const enBpng = await firstPagePng(enBpdf);
  const frApng = await firstPagePng(frApdf);
  const twoPages = await pdf([frA(FR_A).slice(0, 11), frA(FR_A).slice(11)]);
  const pagesOf2 = await openPages(twoPages, 'application/pdf', 200);
  const tiffPages = [await pagesOf2.image(0), await pagesOf2.image(1)];
  await pagesOf2.close();
  return [
    { name: 'fr-acme.pdf', bytes: frApdf, truth: FR_A, type: 'invoice' },
    { name: 'en-blue-harbor.pdf', bytes: enBpdf, truth: EN_B, type: 'invoice' },
    { name: 'fr-dupont.png', bytes: frCpng, truth: FR_C, type: 'invoice' },
    { name: 'en-blue-harbor-scan.jpg', bytes: await scan(enBpng, { angle: 2, speckles: 0.01, jpeg: true }), truth: EN_B, type: 'invoice' },
    { name: 'fr-acme-sideways.png', bytes: await scan(frApng, { angle: 90, speckles: 0 }), truth: FR_A, type: 'invoice' },
    { name: 'fr-acme-2-pages.tif', bytes: await tiff(tiffPages), truth: FR_A, type: 'invoice' },
    { name: 'fr-martin-bad-totals.pdf', bytes: await pdf([bad(BAD)]), truth: BAD, type: 'invoice' },
    { name: 'cv-moreau.pdf', bytes: await pdf([cv]), truth: null, type: 'cv' },
  ];
}
