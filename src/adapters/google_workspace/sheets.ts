import { z } from 'zod';
import { defineTool } from '../../tools/types.js';
import { DOT_SEGMENT_MESSAGE, isDotSegment } from '../google/path.js';
import { googleRequest } from '../google/rest.js';
import { READ_ANNOTATIONS, SCOPES, SHEETS_HOST, WRITE_ANNOTATIONS, segment } from './shared.js';

/** Result budget: GPT Actions bodies stay under 100,000 characters, so reads stop at this many JSON characters. */
const MAX_READ_CHARS = 80_000;
const MAX_WRITE_CELLS = 50_000;

const spreadsheetId = z.string().regex(/^[A-Za-z0-9_-]{10,200}$/, 'must be a spreadsheet id (from its URL: /spreadsheets/d/<id>/)').describe('Spreadsheet id, the <id> in https://docs.google.com/spreadsheets/d/<id>/edit');
const a1Range = (example: string) => z.string().min(1).max(500).regex(/^[^\r\n]+$/).refine((v) => !isDotSegment(v), DOT_SEGMENT_MESSAGE).describe(`Range in A1 notation, e.g. ${example}; a sheet name alone means the whole sheet`);

type Cell = string | number | boolean;

export const sheetsRead = defineTool({
  name: 'google_sheets_read',
  system: 'workspace',
  title: 'Read a Google Sheets range',
  description:
    'Read a range of a Google Sheet (A1 notation, e.g. "Sheet1!A1:D50") as rows of cell values, formatted as shown, unformatted or as formulas. Large ranges are cut at max_rows and flagged truncated.',
  level: 'LOW',
  input: z.object({
    spreadsheet_id: spreadsheetId,
    range: a1Range('"Sheet1!A1:D50" or "Sheet1"'),
    value_render_option: z.enum(['FORMATTED_VALUE', 'UNFORMATTED_VALUE', 'FORMULA']).default('FORMATTED_VALUE').describe('FORMATTED_VALUE: as displayed; UNFORMATTED_VALUE: raw numbers/booleans; FORMULA: formulas instead of results'),
    major_dimension: z.enum(['ROWS', 'COLUMNS']).default('ROWS').describe('ROWS: each inner array is a row; COLUMNS: each inner array is a column'),
    max_rows: z.number().int().min(1).max(5000).default(1000).describe('Stop after this many rows (or columns with COLUMNS)'),
  }),
  output: z.object({
    range: z.string(),
    major_dimension: z.string(),
    rows: z.array(z.array(z.union([z.string(), z.number(), z.boolean()]))),
    row_count: z.number(),
    column_count: z.number(),
    truncated: z.boolean(),
  }),
  annotations: READ_ANNOTATIONS,
  async run(args, ctx) {
    const res = await googleRequest<{ range?: string; majorDimension?: string; values?: Cell[][] }>(ctx, {
      host: SHEETS_HOST,
      path: `/v4/spreadsheets/${segment(args.spreadsheet_id)}/values/${segment(args.range)}`,
      query: { valueRenderOption: args.value_render_option, majorDimension: args.major_dimension },
      auth: SCOPES.sheetsRead,
    });
    // The API omits `values` for an empty range and trims trailing empty rows and cells.
    const all = res.values ?? [];
    const rows: Cell[][] = [];
    let chars = 0;
    for (const row of all) {
      if (rows.length >= args.max_rows) break;
      chars += JSON.stringify(row).length;
      if (chars > MAX_READ_CHARS) break;
      rows.push(row);
    }
    return {
      range: res.range ?? args.range,
      major_dimension: res.majorDimension ?? args.major_dimension,
      rows,
      row_count: rows.length,
      column_count: rows.reduce((n, r) => Math.max(n, r.length), 0),
      truncated: rows.length < all.length,
    };
  },
});

interface UpdateValuesResponse {
  spreadsheetId?: string;
  updatedRange?: string;
  updatedRows?: number;
  updatedColumns?: number;
  updatedCells?: number;
}

const cell = z.union([z.string().max(50_000), z.number(), z.boolean(), z.null()]).describe('Cell value; null leaves the cell unchanged');

export const sheetsWrite = defineTool({
  name: 'google_sheets_write',
  system: 'workspace',
  title: 'Write or append rows to a Google Sheet',
  description:
    'Write rows to a Google Sheet: mode "append" adds them after the last row of the table found in range; mode "update" overwrites the cells starting at range. USER_ENTERED parses numbers, dates and formulas as if typed.',
  level: 'MEDIUM',
  input: z
    .object({
      spreadsheet_id: spreadsheetId,
      range: a1Range('"Sheet1!A1" (update: top-left cell or full range; append: the table to extend, e.g. "Sheet1!A:D")'),
      values: z.array(z.array(cell).max(1000).describe('One row of cells')).min(1).max(10_000).describe('Rows to write, e.g. [["Name","Score"],["Ana",42]]'),
      mode: z.enum(['append', 'update']).default('append').describe('append: add rows after the existing data; update: overwrite cells at range'),
      value_input_option: z.enum(['USER_ENTERED', 'RAW']).default('USER_ENTERED').describe('USER_ENTERED: parse like typed input ("=SUM(A1:A3)", "2025-01-31"); RAW: store strings as-is'),
      insert_data_option: z.enum(['INSERT_ROWS', 'OVERWRITE']).default('INSERT_ROWS').describe('append only: INSERT_ROWS inserts new rows; OVERWRITE writes into the empty rows after the table'),
    })
    .refine((a) => a.values.reduce((n, r) => n + r.length, 0) <= MAX_WRITE_CELLS, { message: `at most ${MAX_WRITE_CELLS} cells per call`, path: ['values'] }),
  output: z.object({
    mode: z.enum(['append', 'update']),
    spreadsheet_id: z.string(),
    updated_range: z.string().nullable(),
    updated_rows: z.number(),
    updated_columns: z.number(),
    updated_cells: z.number(),
    table_range: z.string().nullable(),
  }),
  annotations: WRITE_ANNOTATIONS,
  async run(args, ctx) {
    const base = `/v4/spreadsheets/${segment(args.spreadsheet_id)}/values/${segment(args.range)}`;
    const body = { range: args.range, majorDimension: 'ROWS', values: args.values };
    let updates: UpdateValuesResponse;
    let tableRange: string | null = null;
    if (args.mode === 'update') {
      updates = await googleRequest<UpdateValuesResponse>(ctx, {
        host: SHEETS_HOST,
        path: base,
        method: 'PUT',
        query: { valueInputOption: args.value_input_option },
        body,
        auth: SCOPES.sheetsWrite,
        // Writing the same cells again gives the same sheet.
        idempotent: true,
      });
    } else {
      const res = await googleRequest<{ tableRange?: string; updates?: UpdateValuesResponse }>(ctx, {
        host: SHEETS_HOST,
        path: `${base}:append`,
        method: 'POST',
        query: { valueInputOption: args.value_input_option, insertDataOption: args.insert_data_option },
        body,
        auth: SCOPES.sheetsWrite,
        // A retried append would add the rows twice.
        idempotent: false,
      });
      updates = res.updates ?? {};
      tableRange = res.tableRange ?? null;
    }
    return {
      mode: args.mode,
      spreadsheet_id: updates.spreadsheetId ?? args.spreadsheet_id,
      updated_range: updates.updatedRange ?? null,
      updated_rows: updates.updatedRows ?? 0,
      updated_columns: updates.updatedColumns ?? 0,
      updated_cells: updates.updatedCells ?? 0,
      table_range: tableRange,
    };
  },
});
