// A form's or a dialog's one action: busy while it runs (the button shows it and cannot be pressed
// twice), and its failure kept as a message for the alert beside the button, cleared on the next try.
import { useState } from 'react';
import { errorMessage } from './hooks';

export interface Action {
  busy: boolean;
  error: string | null;
  /** For a check that fails before anything is sent, or to clear the message when a dialog closes. */
  setError: (message: string | null) => void;
  run: (work: () => Promise<void>) => Promise<void>;
}

export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (work: () => Promise<void>): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}
