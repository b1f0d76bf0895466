import { z } from "zod";
import { isSafeId } from "../core/text.js";

/** The `spool` option of `createIncidents`: limits of the reports kept while the store is away, and an optional file. */
export interface SpoolOptions {
  /** Most reports kept (default 10 000); a report beyond it is rejected and reported dropped. */
  maxReports?: number;
  /** Most bytes kept, counted as the reports' JSON (default 64 MiB). */
  maxBytes?: number;
  /**
   * Also append each kept report to this file, fsynced before the report resolves; the next
   * start writes what is left in it. One open instance per file.
   */
  filename?: string;
}

const SpoolObjectSchema = z
  .object({
    maxReports: z.number().int().min(1).max(10_000_000).optional(),
    maxBytes: z.number().int().min(1024).max(2 ** 40).optional(),
    filename: z.string().min(1).max(4096).refine((f) => isSafeId(f), "must not contain NUL or unpaired surrogate characters").optional(),
  })
  .strict() satisfies z.ZodType<SpoolOptions>;

/** `false`, or the options; not a union, so that an error names the field (`spool.maxReports`), not only `spool`. */
export const SpoolOptionsSchema = z.preprocess((value) => (value === false ? undefined : value), SpoolObjectSchema.optional());

export const DEFAULT_SPOOL = { maxReports: 10_000, maxBytes: 64 * 1024 * 1024 } as const;
