/**
 * What a recognised document is, and an invoice's fields, from its text: French and English labels and number
 * formats (`1 620,00 €`, `1.620,00`, `1,620.00`, `$1,620.00`), dates (`15/03/2024`, `2024-03-15`, `15 mars 2024`,
 * `March 15, 2024`), and a consistency check of the totals (HT + TVA = TTC).
 */

export type DocumentType = 'invoice' | 'cv' | 'contract' | 'form' | 'generic';

/**
 * Seed 000's keyword rules: the type whose keywords appear most in the text (each keyword counts once), `generic`
 * when none does.
 */
const KEYWORDS: Record<Exclude<DocumentType, 'generic'>, string[]> = {
  invoice: ['facture', 'invoice', 'montant', 'total', 'tva', 'client', 'paiement'],
  cv: ['curriculum', 'vitae', 'expérience', 'compétence', 'formation', 'diplôme'],
  contract: ['contrat', 'article', 'clause', 'signature', 'parties', 'engagement'],
  form: ['formulaire', 'nom', 'prénom', 'adresse', 'date de naissance', 'signature'],
};

export function detectType(text: string): DocumentType {
  const lower = text.toLowerCase();
  let best: DocumentType = 'generic';
  let bestScore = 0;
  for (const [type, words] of Object.entries(KEYWORDS) as [Exclude<DocumentType, 'generic'>, string[]][]) {
    const score = words.filter((w) => lower.includes(w)).length;
    if (score > bestScore) {
      best = type;
      bestScore = score;
    }
  }
  return best;
}

export interface InvoiceFields {
  invoice_number: string | null;
  /** ISO date, YYYY-MM-DD. */
  invoice_date: string | null;
  total_ht: number | null;
  total_tva: number | null;
  total_ttc: number | null;
  /** ISO 4217 code. */
  currency: string | null;
  vendor: string | null;
}

export interface ExtractedInvoice {
  fields: InvoiceFields;
  /** What could not be read, or was derived: kept with the document. */
  warnings: string[];
  /** Why the document needs a person's look (inconsistent totals, no total): undefined when it does not. */
  reviewReason?: string;
}

const SPACE = '[\\s\\u00a0\\u202f]';
/** An amount as written: digits with thousands separators (space, nbsp, '.', ',', ''') and two decimals or none. */
const AMOUNT = `(?:[-−]${SPACE}?)?(?:[€$£]${SPACE}?)?[-−]?\\d{1,3}(?:(?:${SPACE}|[.,'’])\\d{3})*(?:[.,]\\d{1,2})?(?!\\d)|(?:[-−]${SPACE}?)?(?:[€$£]${SPACE}?)?[-−]?\\d+(?:[.,]\\d{1,2})?(?!\\d)`;
/** Amounts beyond this are a misread (an IBAN, a VAT number), not money: DECIMAL(18,2) holds 16 integer digits. */
const LARGEST = 1e15;

/**
 * A written amount as a number: the last '.' or ',' followed by one or two digits is the decimal separator; other
 * separators group thousands. `1 620,00` → 1620, `1,620.00` → 1620, `1.620,00` → 1620, `1620` → 1620.
 */
export function parseAmount(written: string): number | undefined {
  // A credit note writes `- 120,00`, `−120,00` or `(120,00)`.
  const negative = /^\s*\(.*\)\s*$/.test(written) || /^[-−]/.test(written.replace(/[€$£\s\u00a0\u202f]/g, ''));
  const text = written.replace(/[€$£\s\u00a0\u202f'’()]/g, '').replace(/^[-−]+/, '');
  if (!/^-?[\d.,]+$/.test(text)) return undefined;
  const decimal = /[.,](\d{1,2})$/.exec(text);
  const whole = decimal ? text.slice(0, -decimal[0].length) : text;
  if (!/^-?\d+([.,]\d{3})*$/.test(whole) && !/^-?\d+$/.test(whole)) return undefined;
  const n = Number(`${whole.replace(/[.,]/g, '')}${decimal ? `.${decimal[1]}` : ''}`);
  if (!Number.isFinite(n) || Math.abs(n) >= LARGEST) return undefined;
  return negative ? -n : n;
}

const MONTHS: Record<string, number> = {
  janvier: 1,
  janv: 1,
  january: 1,
  jan: 1,
  février: 2,
  fevrier: 2,
  févr: 2,
  fevr: 2,
  february: 2,
  feb: 2,
  mars: 3,
  march: 3,
  mar: 3,
  avril: 4,
  april: 4,
  avr: 4,
  apr: 4,
  mai: 5,
  may: 5,
  juin: 6,
  june: 6,
  jun: 6,
  juillet: 7,
  juil: 7,
  july: 7,
  jul: 7,
  août: 8,
  aout: 8,
  august: 8,
  aug: 8,
  septembre: 9,
  september: 9,
  sept: 9,
  sep: 9,
  octobre: 10,
  october: 10,
  oct: 10,
  novembre: 11,
  november: 11,
  nov: 11,
  décembre: 12,
  decembre: 12,
  december: 12,
  déc: 12,
  dec: 12,
};
const MONTH_NAMES = Object.keys(MONTHS)
  .sort((a, b) => b.length - a.length)
  .join('|');

function iso(y: number, m: number, d: number): string | undefined {
  if (y < 100) y += 2000;
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return undefined;
  return date.toISOString().slice(0, 10);
}

/** The first date in a text, as YYYY-MM-DD (day before month for numeric dates, as in French and British use). */
export function parseDate(text: string, monthFirst = false): string | undefined {
  const ymd = /\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b/.exec(text);
  const dmy = /\b(\d{1,2})[-/.](\d{1,2})[-/.](\d{2,4})\b/.exec(text);
  const named = new RegExp(`\\b(\\d{1,2})(?:er)?${SPACE}+(${MONTH_NAMES})\\.?${SPACE}+(\\d{4})\\b`, 'i').exec(text);
  const us = new RegExp(`\\b(${MONTH_NAMES})\\.?${SPACE}+(\\d{1,2})(?:st|nd|rd|th)?,?${SPACE}+(\\d{4})\\b`, 'i').exec(text);
  const candidates: [number, string | undefined][] = [];
  if (ymd) candidates.push([ymd.index, iso(Number(ymd[1]), Number(ymd[2]), Number(ymd[3]))]);
  if (dmy) {
    const [a, b] = [Number(dmy[1]), Number(dmy[2])];
    candidates.push([dmy.index, monthFirst && a <= 12 ? iso(Number(dmy[3]), a, b) : (iso(Number(dmy[3]), b, a) ?? iso(Number(dmy[3]), a, b))]);
  }
  if (named) candidates.push([named.index, iso(Number(named[3]), MONTHS[named[2]!.toLowerCase()]!, Number(named[1]))]);
  if (us) candidates.push([us.index, iso(Number(us[3]), MONTHS[us[1]!.toLowerCase()]!, Number(us[2]))]);
  return candidates.filter((c) => c[1]).sort((x, y) => x[0] - y[0])[0]?.[1];
}

const LABELS = {
  number: /\b(?:facture|invoice|fact\.?|inv\.?)\s*(?:n[°ºo]\.?|no\.?|nr\.?|num(?:é|e)ro|number|#)?\s*[:.#]?\s*/i,
  date: /\b(?:date\s+(?:de\s+(?:la\s+)?facture|d['’]émission|d['’]emission|of\s+issue)|invoice\s+date|date\s+facture|issued(?:\s+on)?|émise?\s+le|date)\s*[:.]?\s*/i,
  ht: /\b(?:total\s*h\.?\s*t\.?|montant\s*h\.?\s*t\.?|sous[-\s]?total|sub[-\s]?total|total\s+(?:excl\.?|excluding|before)\s*(?:vat|tax)?|net\s+amount|total\s+net|h\.t\.)/i,
  tva: /\b(?:t\.?v\.?a\.?|vat|tax(?:es)?|sales\s+tax)\b/i,
  ttc: /\b(?:total\s*t\.?\s*t\.?\s*c\.?|montant\s*t\.?t\.?c\.?|net\s+[àa]\s+payer|total\s+[àa]\s+payer|reste\s+[àa]\s+payer|total\s+(?:incl\.?|including)\s*(?:vat|tax)?|amount\s+due|balance\s+due|grand\s+total|total\s+due)/i,
};

/** The amounts on a line, percentages (tax rates) left out. */
function amountsOn(line: string): number[] {
  // What only looks like an amount is left out: tax rates (`20 %`), dates, VAT and IBAN numbers (`FR40123456789`),
  // legal references (`art. 293 B`, `n° 12`, SIRET), payment terms (`net 30`, `30 jours`).
  const cleaned = line
    .replace(new RegExp(`\\d+(?:[.,]\\d+)?${SPACE}*%`, 'g'), ' ')
    .replace(/\b\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}\b/g, ' ')
    .replace(
      new RegExp(`\\b\\d{1,2}${SPACE}+(?:${MONTH_NAMES})\\.?${SPACE}+\\d{4}\\b|\\b(?:${MONTH_NAMES})\\.?${SPACE}+\\d{1,2},?${SPACE}+\\d{4}\\b`, 'gi'),
      ' ',
    )
    .replace(/\b[A-Z]{2}[\s\u00a0]?\d{2}(?:[\s\u00a0]?[\dA-Z]{2,}){2,}\b/g, ' ')
    .replace(/\b[A-Z]{2}[\s\u00a0]?\d{2}[\s\u00a0]?\d{6,}\b/g, ' ')
    .replace(/(?:\bart(?:icle)?\.?|n[°º]\.?|\bno\.|\bsiret|\bsiren|\bintracom\w*|\bvat\s+(?:no|number|id)\.?)\s*[:.]?\s*[\dA-Z][\dA-Z ]*/gi, ' ')
    .replace(/\b(?:net|within|sous)\s+\d+\s*(?:days?|jours?)?\b|\b\d+\s*(?:days?|jours?)\b/gi, ' ');
  const found = [...cleaned.matchAll(new RegExp(AMOUNT, 'g'))]
    .map((m) => ({ text: m[0].trim(), value: parseAmount(m[0]) }))
    .filter((a) => a.value !== undefined);
  // Money is written with a currency sign or cents: when a line holds such amounts, its bare integers are not money.
  const money = found.filter((a) => /[€$£]|[.,]\d{2}$/.test(a.text));
  return (money.length ? money : found).map((a) => a.value!);
}

/** The amount a label introduces: on its line after the label, else on the next line. */
function labelled(lines: string[], label: RegExp, exclude?: RegExp): number | undefined {
  let found: number | undefined;
  for (const [i, line] of lines.entries()) {
    const m = label.exec(line);
    if (!m || exclude?.test(line)) continue;
    const after = line.slice(m.index + m[0].length);
    const amounts = amountsOn(after);
    const value = amounts.at(-1) ?? (lines[i + 1] && !Object.values(LABELS).some((l) => l.test(lines[i + 1]!)) ? amountsOn(lines[i + 1]!).at(-1) : undefined);
    // The last such line wins (a summary block comes after the item lines that may repeat a label).
    if (value !== undefined) found = value;
  }
  return found;
}

function currencyOf(text: string): string | null {
  if (/€|\bEUR\b|\beuros?\b/i.test(text)) return 'EUR';
  if (/£|\bGBP\b/.test(text)) return 'GBP';
  if (/\bCHF\b/.test(text)) return 'CHF';
  if (/\$|\bUSD\b/.test(text)) return 'USD';
  return null;
}

const LEGAL_FORM = /\b(?:SARL|SAS|SASU|SA|EURL|SNC|SCI|GmbH|AG|Ltd\.?|Limited|LLC|Inc\.?|Corp\.?|plc|S\.?p\.?A|S\.?L\.?|BV|NV)\b/;

function vendorOf(lines: string[]): string | null {
  const top = lines.slice(0, 12);
  // The customer's block is not the vendor: a "Client", "Bill to", "Facturé à" line and the three after it.
  const customerLine = /^\s*(client|customer|bill(?:ed)?\s+to|sold\s+to|factur[ée]\s+[àa]|destinataire|ship\s+to)\b/i;
  const customer = top.findIndex((l) => customerLine.test(l));
  const own = top.filter((l, i) => !customerLine.test(l) && (customer < 0 || i < customer || i > customer + 3));
  const legal = own.find((l) => LEGAL_FORM.test(l) && !LABELS.number.test(l) && /[A-Za-zÀ-ÿ]{3}/.test(l));
  if (legal) return legal.trim();
  const first = own.find(
    (l) => /[A-Za-zÀ-ÿ]{3}/.test(l) && !/^\s*(facture|invoice|date|client|bill\s+to|factur[ée]\s+[àa])\b/i.test(l) && !/\d{2}[/.-]\d{2}/.test(l),
  );
  return first?.trim() ?? null;
}

function numberOf(lines: string[]): string | null {
  for (const line of lines) {
    const m = LABELS.number.exec(line);
    if (!m) continue;
    const rest = line.slice(m.index + m[0].length);
    // A number holds a digit: "Facture du lundi", "Invoice to Mon…" are not numbers.
    const token = /^([A-Z0-9][A-Z0-9\-/_.]*[A-Z0-9]|[0-9])/i.exec(rest.trim());
    if (token && /\d/.test(token[1]!) && !/^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}$/.test(token[1]!)) return token[1]!;
  }
  const bare = /\b((?:FA|FAC|FACT|INV|F)[-_/]?\d{2,}(?:[-_/]\d+)*)\b/i.exec(lines.join('\n'));
  return bare?.[1] ?? null;
}

const SPECIFIC_DATE =
  /\b(?:date\s+(?:de\s+(?:la\s+)?facture|d['’]émission|d['’]emission|of\s+issue)|invoice\s+date|date\s+facture|issued(?:\s+on)?|émise?\s+le)\b/i;

function dateOf(lines: string[], monthFirst: boolean): string | null {
  // The invoice's own date first ("Date de facture"), before any other dated line ("Date de livraison").
  for (const line of lines) {
    const m = SPECIFIC_DATE.exec(line);
    if (!m) continue;
    const date = parseDate(line.slice(m.index), monthFirst);
    if (date) return date;
  }
  for (const line of lines) {
    if (/livraison|delivery|commande|order|[ée]ch[ée]ance|\bdue\b/i.test(line)) continue;
    const m = LABELS.date.exec(line);
    if (!m || /[ée]ch[ée]ance|due\s+date|due\s+on/i.test(line.slice(0, m.index + m[0].length))) continue;
    const date = parseDate(line.slice(m.index), monthFirst) ?? parseDate(line, monthFirst);
    if (date) return date;
  }
  return parseDate(lines.join('\n'), monthFirst) ?? null;
}

/** An invoice's fields from its text, with warnings, and why it needs review when it does. */
export function extractInvoice(text: string): ExtractedInvoice {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.replace(/[ \t]+/g, ' ').trim())
    .filter((l) => l.length > 0);
  const warnings: string[] = [];
  const english = /\b(invoice|subtotal|amount due|vat)\b/i.test(text) && !/\b(facture|tva|ttc)\b/i.test(text);
  const monthFirst = english && /\$|\bUSD\b/.test(text);
  let ht = labelled(lines, LABELS.ht);
  let ttc = labelled(lines, LABELS.ttc);
  let tva = labelled(lines, LABELS.tva, /t\.?\s*t\.?\s*c|h\.?\s*t\.?\b|incl|excl|before|including|excluding/i);
  // A bare "Total" (not HT, not a tax) is what is to pay: it must agree with the TTC read or derived.
  const bare = labelled(
    lines,
    /\b(?:total|amount\s+due|montant\s+d[ûu])\b\s*[:.]?/i,
    /h\.?\s*t\.?\b|t\.?\s*t\.?\s*c|t\.?v\.?a|tax|vat|sub|excl|incl|net|grand|due\b/i,
  );
  if (ttc === undefined && ht === undefined) {
    // "Total: 1 620,00 €" alone: the amount to pay.
    const total = labelled(lines, /\btotal\b\s*[:.]?/i);
    if (total !== undefined) {
      ttc = total;
      warnings.push('only a "total" was found: taken as the total TTC');
    }
  }
  if (ht !== undefined && ttc !== undefined && tva === undefined) {
    tva = round2(ttc - ht);
    warnings.push('TVA derived from TTC - HT');
  } else if (ht === undefined && ttc !== undefined && tva !== undefined) {
    ht = round2(ttc - tva);
    warnings.push('HT derived from TTC - TVA');
  } else if (ttc === undefined && ht !== undefined && tva !== undefined) {
    ttc = round2(ht + tva);
    warnings.push('TTC derived from HT + TVA');
  }
  const fields: InvoiceFields = {
    invoice_number: numberOf(lines),
    invoice_date: dateOf(lines, monthFirst),
    total_ht: ht ?? null,
    total_tva: tva ?? null,
    total_ttc: ttc ?? null,
    currency: currencyOf(text),
    vendor: vendorOf(lines),
  };
  for (const [k, v] of Object.entries(fields)) if (v === null) warnings.push(`no ${k.replace('_', ' ')} found`);
  let reviewReason: string | undefined;
  if (bare !== undefined && ttc !== undefined && Math.abs(bare - ttc) > 0.011) {
    reviewReason = `the total to pay (${bare}) is not the TTC (${ttc})`;
  } else if (ht !== undefined && tva !== undefined && ttc !== undefined && Math.abs(ht + tva - ttc) > 0.011) {
    reviewReason = `totals do not add up: HT ${ht} + TVA ${tva} = ${round2(ht + tva)}, not TTC ${ttc}`;
  } else if (ttc === undefined) reviewReason = 'no total found';
  return { fields, warnings, ...(reviewReason ? { reviewReason } : {}) };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
