import { defaultWorkspaceFile, openWorkspace, type OpenWorkspaceOptions, type Workspace } from '../workspace';
import { unavailableKeyStore } from '../llm/keys';
import { stringOption, type OptionValues } from './command';

/** Opens the workspace named by --workspace (or the default), runs `body`, and always closes it. */
export async function withWorkspace<T>(
  values: OptionValues,
  body: (ws: Workspace) => Promise<T>,
  opts: OpenWorkspaceOptions = { resumeJobs: false },
): Promise<T> {
  // The CLI has no keychain: keys come from environment variables or key files (unless a caller says otherwise).
  const ws = openWorkspace(stringOption(values, 'workspace') ?? defaultWorkspaceFile(), {
    keyStore: unavailableKeyStore,
    ...opts,
  });
  try {
    return await body(ws);
  } finally {
    await ws.close();
  }
}
