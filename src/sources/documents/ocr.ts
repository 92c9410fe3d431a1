import { copyFileSync, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Image } from '@napi-rs/canvas';
import { createScheduler, createWorker, type Scheduler } from 'tesseract.js';
import { TributaryError, errorMessage } from '../../errors.js';
import { canvas } from './render.js';

/**
 * Text recognition for the documents source: Tesseract (tesseract.js: WebAssembly, in worker threads, so the
 * process stays responsive), with the trained data of npm packages (`@tesseract.js-data/<lang>`) — nothing is
 * downloaded at run time. PDF pages are rendered by pdf.js on a canvas (`@napi-rs/canvas`, prebuilt); images are
 * read as they are. A page that reads badly is tried again cleaned of speckles, and turned a quarter, half and
 * three quarters, and the best reading is kept.
 */

const require = createRequire(import.meta.url);
const { createCanvas, loadImage } = canvas;

export interface PageText {
  page: number;
  text: string;
  /** Tesseract's mean word confidence, 0–100. */
  confidence: number;
  words: number;
  /** How the page was read when it had to be: `denoised`, `rotated 90`… */
  correction: string | null;
}

export interface OcrOptions {
  languages: string[];
  /** Worker threads (default 1). */
  workers: number;
  /** Where the trained data is gathered and cached (uncompressed) between runs. */
  cacheDir: string;
  /** Below this confidence a page is read again, cleaned and turned (default 75). */
  retryBelow: number;
}

/** The folder holding every language's `<lang>.traineddata.gz`, gathered from the npm packages. */
function gatherLanguages(languages: readonly string[], dir: string, where: string): string {
  const target = path.join(dir, 'tessdata');
  mkdirSync(target, { recursive: true });
  for (const lang of languages) {
    let pkg: { langPath: string };
    try {
      pkg = require(`@tesseract.js-data/${lang}`) as { langPath: string };
    } catch {
      throw new TributaryError('CONFIG_INVALID', `${where}.languages: no trained data for "${lang}": install the npm package @tesseract.js-data/${lang}`, {
        hint: 'fra and eng come with Tributary',
      });
    }
    // The integer-quantised LSTM model: as accurate for printed text, several times smaller and faster.
    const fast = path.join(path.dirname(pkg.langPath), `${path.basename(pkg.langPath)}_best_int`, `${lang}.traineddata.gz`);
    const source = existsSync(fast) ? fast : path.join(pkg.langPath, `${lang}.traineddata.gz`);
    const file = path.join(target, `${lang}.traineddata.gz`);
    // Copied whole or not at all (a temporary file renamed), and again when it is not the package's (a copy cut short).
    if (!existsSync(file) || statSync(file).size !== statSync(source).size) {
      const partial = `${file}.${process.pid}.tmp`;
      copyFileSync(source, partial);
      renameSync(partial, file);
    }
  }
  return target;
}

function withTimeout<T>(promise: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(error()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export class Ocr {
  private constructor(
    private readonly scheduler: Scheduler,
    readonly options: OcrOptions,
  ) {}

  static async open(options: OcrOptions, where: string): Promise<Ocr> {
    const langPath = gatherLanguages(options.languages, options.cacheDir, where);
    const scheduler = createScheduler();
    try {
      for (let i = 0; i < options.workers; i++) {
        // No cache of its own: tesseract.js writes it non-atomically, and a cut-short cache breaks every later start.
        const worker = await withTimeout(
          createWorker(options.languages, 1, { langPath, cacheMethod: 'none', gzip: true, logger: () => undefined, errorHandler: () => undefined }),
          120_000,
          () => new Error(`no worker started within 2 minutes: the trained data in ${langPath} may be damaged (delete the folder to copy it again)`),
        );
        scheduler.addWorker(worker);
      }
    } catch (err) {
      await scheduler.terminate().catch(() => undefined);
      throw new TributaryError('CONFIG_INVALID', `${where}: Tesseract could not start: ${errorMessage(err)}`, { cause: err });
    }
    return new Ocr(scheduler, options);
  }

  /** One page image (PNG, JPEG, BMP…), read as well as it can be. */
  async page(image: Buffer, page: number): Promise<PageText> {
    let best = await this.read(image, page, null);
    if (best.confidence >= this.options.retryBelow && quality(best.text) >= 0.6) return best;
    const picture = await loadImage(image);
    for (const [correction, variant] of [
      ['denoised', () => denoise(picture)],
      ['rotated 90', () => rotate(picture, 90)],
      ['rotated 180', () => rotate(picture, 180)],
      ['rotated 270', () => rotate(picture, 270)],
    ] as const) {
      const reading = await this.read(variant(), page, correction);
      if (score(reading) > score(best)) best = reading;
      if (best.confidence >= this.options.retryBelow && quality(best.text) >= 0.6) break;
    }
    return best;
  }

  private async read(image: Buffer, page: number, correction: string | null): Promise<PageText> {
    const { data } = await this.scheduler.addJob('recognize', image);
    const text = data.text.trim();
    return { page, text, confidence: Math.round(data.confidence * 10) / 10, words: text ? text.split(/\s+/).length : 0, correction };
  }

  async close(): Promise<void> {
    await this.scheduler.terminate();
  }
}

/**
 * How much of a reading looks like words: the share of tokens that are words of two letters or more, or numbers.
 * A page read sideways gives confident nonsense ("d 4 O OU U"), which Tesseract's confidence does not show.
 */
export function quality(text: string): number {
  // Punctuation and currency signs alone say nothing either way.
  const tokens = text.split(/\s+/).filter((t) => t && !/^[:;,.!?€$£%*\-–—|/()]+$/.test(t));
  if (tokens.length === 0) return 0;
  const good = tokens.filter((t) => /^[(«"']?[A-Za-zÀ-ÿ]{2,}[-'’A-Za-zÀ-ÿ]*[.,:;)»"']?$/.test(t) || /^[€$£]?-?\d[\d.,/:-]+[€$£%]?$/.test(t));
  return good.length / tokens.length;
}

function score(r: PageText): number {
  return r.confidence * quality(r.text) * Math.min(1, r.words / 20);
}

function rotate(image: Image, degrees: 90 | 180 | 270): Buffer {
  const quarter = degrees !== 180;
  const canvas = createCanvas(quarter ? image.height : image.width, quarter ? image.width : image.height);
  const ctx = canvas.getContext('2d');
  ctx.translate(canvas.width / 2, canvas.height / 2);
  ctx.rotate((degrees * Math.PI) / 180);
  ctx.drawImage(image, -image.width / 2, -image.height / 2);
  return canvas.toBuffer('image/png');
}

/** A 3×3 median filter on the grey levels: speckles of a scan (salt and pepper) go, strokes stay. */
function denoise(image: Image): Buffer {
  const canvas = createCanvas(image.width, image.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(image, 0, 0);
  const { width, height } = canvas;
  const pixels = ctx.getImageData(0, 0, width, height);
  const grey = new Uint8Array(width * height);
  for (let i = 0; i < grey.length; i++) grey[i] = (pixels.data[4 * i]! * 299 + pixels.data[4 * i + 1]! * 587 + pixels.data[4 * i + 2]! * 114) / 1000;
  const out = new Uint8Array(grey.length);
  const window = new Uint8Array(9);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let k = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = Math.min(height - 1, Math.max(0, y + dy));
        for (let dx = -1; dx <= 1; dx++) window[k++] = grey[yy * width + Math.min(width - 1, Math.max(0, x + dx))]!;
      }
      window.sort();
      out[y * width + x] = window[4]!;
    }
  }
  for (let i = 0; i < out.length; i++) {
    pixels.data[4 * i] = pixels.data[4 * i + 1] = pixels.data[4 * i + 2] = out[i]!;
    pixels.data[4 * i + 3] = 255;
  }
  ctx.putImageData(pixels, 0, 0);
  return canvas.toBuffer('image/png');
}
