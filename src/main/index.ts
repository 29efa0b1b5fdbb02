// The Electron entry: the real `electron` module handed to the shell (src/main/desktop/shell.ts), which
// holds the window, the security settings, the protocols and the IPC wiring.
import * as electron from 'electron';
import { createDesktop } from './desktop/shell';

const desktop = createDesktop(electron, {
  mainDir: import.meta.dirname,
  env: process.env,
  argv: process.argv,
  resourcesPath: process.resourcesPath,
});
void desktop.start();
