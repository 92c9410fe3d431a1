import { z } from 'zod';
import { tableNameSchema } from '../../lake/table-name.js';

/** The config of a `kind: 'documents'` source: scanned or born-digital documents, recognised by Tesseract. */
export const documentsSourceSchema = z
  .strictObject({
    kind: z.literal('documents'),
    /** Documents matching these globs (relative to the project): PDF, PNG, JPEG, TIFF. */
    glob: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    /**
     * Or an inbox folder: its PDF, PNG, JPEG and TIFF files are read, and moved to `<inbox>/processed/` once
     * committed (seed 000's OCR inbox).
     */
    inbox: z.string().min(1).optional(),
    /** One row per document: file, hash, pages, text per page with confidence, type, invoice fields, warnings. */
    into: tableNameSchema,
    /** Documents a person should look at (confidence below `minConfidence`, totals that do not add up), with the reason (default `<into>_review`). */
    review: tableNameSchema.optional(),
    /** Tesseract languages, each from `@tesseract.js-data/<lang>` (default ['fra', 'eng'], which come with Tributary). */
    languages: z
      .array(z.string().regex(/^[a-z_]{3,8}$/, 'a Tesseract language code such as fra or eng'))
      .min(1)
      .optional(),
    /** A document recognised with a lower mean confidence (0–100) goes to review (default 60). */
    minConfidence: z.number().min(0).max(100).optional(),
    /** Resolution PDF pages are rendered at (default 300 dpi). */
    dpi: z.number().int().min(72).max(600).optional(),
    /** Pages read per document at most (default 50); the rest are counted, with a warning. */
    maxPages: z.number().int().positive().optional(),
    /** Tesseract worker threads (default 1: one page at a time per process, the machine's other cores left to the rest). */
    workers: z.number().int().min(1).max(16).optional(),
    /** Documents per commit (default 10): a crash repeats at most this many recognitions. */
    batchSize: z.number().int().positive().optional(),
  })
  .superRefine((s, ctx) => {
    if ((s.glob === undefined) === (s.inbox === undefined)) ctx.addIssue({ code: 'custom', path: ['glob'], message: 'give either glob or inbox' });
  });
export type DocumentsSourceConfig = z.infer<typeof documentsSourceSchema>;
