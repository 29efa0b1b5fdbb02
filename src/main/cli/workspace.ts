import { defaultWorkspaceFile, openWorkspace, type OpenWorkspaceOptions, type Workspace } from '../workspace';
import { stringOption, type OptionValues } from './command';

/** Opens the workspace named by --workspace (or the default), runs `body`, and always closes it. */
export async function withWorkspace<T>(
  values: OptionValues,
  body: (ws: Workspace) => Promise<T>,
  opts: OpenWorkspaceOptions = { resumeJobs: false },
): Promise<T> {
  const ws = openWorkspace(stringOption(values, 'workspace') ?? defaultWorkspaceFile(), opts);
  try {
    return await body(ws);
  } finally {
    await ws.close();
  }
}
