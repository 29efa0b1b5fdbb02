// One key per action, shown in the cheat sheet and beside the buttons. Letters work with either case.
export interface KeyBinding {
  keys: string[];
  label: string;
  action:
    | 'accept'
    | 'reject'
    | 'flag'
    | 'pending'
    | 'edit'
    | 'save'
    | 'next'
    | 'prev'
    | 'nextUnreviewed'
    | 'undo'
    | 'reload'
    | 'zoomIn'
    | 'zoomOut'
    | 'zoomReset'
    | 'help'
    | 'blur';
}

export const BINDINGS: KeyBinding[] = [
  { keys: ['a'], label: 'Accept (with your edits, if you made any) and go to the next', action: 'accept' },
  { keys: ['r'], label: 'Reject and go to the next', action: 'reject' },
  { keys: ['f'], label: 'Flag for a second look and go to the next', action: 'flag' },
  { keys: ['p'], label: 'Back to pending', action: 'pending' },
  { keys: ['e'], label: 'Edit the caption', action: 'edit' },
  { keys: ['Ctrl', 'Enter'], label: 'Accept with edits (in the editor)', action: 'save' },
  { keys: ['Esc'], label: 'Leave the editor', action: 'blur' },
  { keys: ['j', '→'], label: 'Next', action: 'next' },
  { keys: ['k', '←'], label: 'Previous', action: 'prev' },
  { keys: ['n'], label: 'Next unreviewed (pending)', action: 'nextUnreviewed' },
  { keys: ['u'], label: 'Undo your last decision', action: 'undo' },
  { keys: ['Shift', 'R'], label: 'Reload this caption (after a conflict)', action: 'reload' },
  { keys: ['+'], label: 'Zoom in', action: 'zoomIn' },
  { keys: ['−'], label: 'Zoom out', action: 'zoomOut' },
  { keys: ['0'], label: 'Fit the image', action: 'zoomReset' },
  { keys: ['?'], label: 'This cheat sheet', action: 'help' },
];

/** The action of a key press outside the editor; null for keys the desk does not use. */
export function actionOf(e: {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
}): KeyBinding['action'] | null {
  if (e.altKey) return null;
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'z') return 'undo';
  if (e.ctrlKey || e.metaKey) return null;
  if (e.shiftKey && e.key === 'R') return 'reload';
  switch (e.key) {
    case 'ArrowRight':
      return 'next';
    case 'ArrowLeft':
      return 'prev';
    case '+':
    case '=':
      return 'zoomIn';
    case '-':
    case '_':
      return 'zoomOut';
    case '0':
      return 'zoomReset';
    case '?':
      return 'help';
  }
  switch (e.key.toLowerCase()) {
    case 'a':
      return 'accept';
    case 'r':
      return 'reject';
    case 'f':
      return 'flag';
    case 'p':
      return 'pending';
    case 'e':
      return 'edit';
    case 'j':
      return 'next';
    case 'k':
      return 'prev';
    case 'n':
      return 'nextUnreviewed';
    case 'u':
      return 'undo';
  }
  return null;
}
