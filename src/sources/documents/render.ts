import { createRequire } from 'node:module';
import path from 'node:path';
import UTIF from 'utif2';

/**
 * A document's pages as images Tesseract reads: PDF pages rendered by pdf.js (Mozilla's, the reference renderer)
 * on a canvas at the given resolution; PNG and JPEG as they are; TIFF pages (multi-page scans) decoded by UTIF.
 */

const require = createRequire(import.meta.url);
/**
 * The canvas through `require`, as pdf.js loads it for its Path2D and DOMMatrix: one copy of the module, so that
 * the paths pdf.js builds are the paths the canvas draws (two copies' classes do not recognise each other).
 */
export const canvas = require('@napi-rs/canvas') as typeof import('@napi-rs/canvas');
const { createCanvas } = canvas;

export type MediaType = 'application/pdf' | 'image/png' | 'image/jpeg' | 'image/tiff';

/** The document's kind from its first bytes (its name may lie); undefined when it is none of those read. */
export function sniff(head: Buffer): MediaType | undefined {
  if (head.subarray(0, 5).toString('latin1') === '%PDF-') return 'application/pdf';
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'image/jpeg';
  const tiff = head.subarray(0, 4).toString('latin1');
  if (tiff === 'II*\u0000' || tiff === 'MM\u0000*') return 'image/tiff';
  return undefined;
}

export interface Pages {
  count: number;
  /** Page `i` (0-based) as a PNG or JPEG image. */
  image(i: number): Promise<Buffer>;
  close(): Promise<void>;
}

export async function openPages(bytes: Buffer, type: MediaType, dpi: number): Promise<Pages> {
  if (type === 'image/png' || type === 'image/jpeg') return { count: 1, image: async () => bytes, close: async () => undefined };
  if (type === 'image/tiff') return tiffPages(bytes);
  return pdfPages(bytes, dpi);
}

function tiffPages(bytes: Buffer): Pages {
  // One copy of the file for UTIF; each page's pixels are dropped once its image is made.
  const buffer = new Uint8Array(bytes).buffer;
  const ifds = UTIF.decode(buffer).filter((ifd) => ifd.t256 !== undefined);
  return {
    count: ifds.length,
    image: async (i) => {
      const ifd = ifds[i]!;
      UTIF.decodeImage(buffer, ifd);
      const rgba = UTIF.toRGBA8(ifd);
      delete (ifd as { data?: unknown }).data;
      const canvas = createCanvas(ifd.width, ifd.height);
      const ctx = canvas.getContext('2d');
      const image = ctx.createImageData(ifd.width, ifd.height);
      image.data.set(rgba);
      ctx.putImageData(image, 0, 0);
      return canvas.toBuffer('image/png');
    },
    close: async () => undefined,
  };
}

async function pdfPages(bytes: Buffer, dpi: number): Promise<Pages> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  // The standard fonts' data ships with pdf.js: read from disk, never fetched.
  const standardFontDataUrl = `${path.join(path.dirname(require.resolve('pdfjs-dist/package.json')), 'standard_fonts')}${path.sep}`;
  const doc = await pdfjs.getDocument({
    data: new Uint8Array(bytes),
    standardFontDataUrl,
    useSystemFonts: false,
    disableFontFace: true,
    isEvalSupported: false,
    verbosity: 0,
  }).promise;
  return {
    count: doc.numPages,
    image: async (i) => {
      const page = await doc.getPage(i + 1);
      const viewport = page.getViewport({ scale: dpi / 72 });
      const canvas = createCanvas(Math.ceil(viewport.width), Math.ceil(viewport.height));
      const ctx = canvas.getContext('2d');
      ctx.fillStyle = 'white';
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      // pdf.js draws on anything with the CanvasRenderingContext2D API; @napi-rs/canvas is one.
      await page.render({ canvasContext: ctx as unknown as CanvasRenderingContext2D, viewport, canvas: canvas as unknown as HTMLCanvasElement }).promise;
      page.cleanup();
      return canvas.toBuffer('image/png');
    },
    close: async () => {
      await doc.destroy();
    },
  };
}
