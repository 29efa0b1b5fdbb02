// PLACEHOLDER — replaced by the import work (folder + TBPS annotation import).
import { z } from 'zod';
import type { JobDefinition } from './runner';

export const importParams = z.object({ datasetId: z.number().int() });
export type ImportParams = z.infer<typeof importParams>;

export const importJob: JobDefinition<ImportParams, unknown> = {
  kind: 'import',
  params: importParams,
  title: (p) => `Import dataset ${p.datasetId}`,
  run: async () => {
    throw new Error('import is not built yet');
  },
};

import type { ParsedArg, InvokeResults } from '../../shared/contract';
import type { Workspace } from '../workspace';
export function startImport(_ws: Workspace, _arg: ParsedArg<'import:start'>): InvokeResults['import:start'] {
  throw new Error('import is not built yet');
}
