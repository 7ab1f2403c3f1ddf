// Compile-time only: the zod schemas and the documented interfaces describe the same results.json. When a
// field is added, removed or retyped on one side only, tsc fails here and names the type.
import type { z } from 'zod';
import type { RepResult } from '../../load/types.js';
import type { CellParams } from '../../matrix/cells.js';
import type { CellProxy, CellResult, CellSummary, Estimate, MeasuredRep, ProxyRepRecord, RunInfo, RunResults } from '../model.js';
import type { cellParamsSchema, cellProxySchema, cellResultSchema, cellSummarySchema, estimateSchema } from './cell.js';
import type { measuredRepSchema, proxyRepSchema } from './measured.js';
import type { repResultSchema } from './rep.js';
import type { resultsSchema, runInfoSchema } from './run.js';

/** A type with its intersections flattened, all the way down, so `A & B` and `{...A, ...B}` compare equal. */
// (A mapped type over an array or a tuple maps its elements and keeps it an array or that tuple.)
type Deep<T> = T extends object ? { [K in keyof T]: Deep<T[K]> } : T;

/** Exact equality (optional stays optional, no `any` slips through), not mere mutual assignability. */
type Same<A, B> = (<T>() => T extends Deep<A> ? 1 : 2) extends <T>() => T extends Deep<B> ? 1 : 2 ? true : false;

function agree<_T extends true>(): void {}

agree<Same<RepResult, z.infer<typeof repResultSchema>>>();
agree<Same<ProxyRepRecord, z.infer<typeof proxyRepSchema>>>();
agree<Same<MeasuredRep, z.infer<typeof measuredRepSchema>>>();
agree<Same<CellParams, z.infer<typeof cellParamsSchema>>>();
agree<Same<Estimate, z.infer<typeof estimateSchema>>>();
agree<Same<CellSummary, z.infer<typeof cellSummarySchema>>>();
agree<Same<CellProxy, z.infer<typeof cellProxySchema>>>();
agree<Same<CellResult, z.infer<typeof cellResultSchema>>>();
agree<Same<RunInfo, z.infer<typeof runInfoSchema>>>();
agree<Same<RunResults, z.infer<typeof resultsSchema>>>();

// The check has teeth: a field missing on one side, or optional on one side only, is caught.
// @ts-expect-error rps missing from one side
agree<Same<RepResult, Omit<RepResult, 'rps'>>>();
// @ts-expect-error drainMs required on one side
agree<Same<RepResult, RepResult & { drainMs: number }>>();
