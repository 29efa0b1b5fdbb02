// The image open in the drawer, for a view that lists images in a ThumbnailGrid: opening a cell,
// stepping through the grid from the drawer (a row is however many columns fit now), and forgetting the
// selection when the list itself changes. The library, the search results and MTI's share it.
import { useCallback, useMemo, useRef, useState } from 'react';
import type { ImageId } from '#shared/ids';
import type { GridHandle } from './ThumbnailGrid';

/** How the drawer moves through the list it was opened from. */
export interface DrawerMove {
  /** Left/right step one image, up/down one grid row. */
  step: (delta: number | 'row-up' | 'row-down') => void;
}

export interface GridSelection {
  grid: React.RefObject<GridHandle | null>;
  selection: { index: number; id: ImageId } | null;
  selectedIndex: number | null;
  /** Opens the image at `index`, if there is one, and scrolls the grid to it. */
  select: (index: number) => void;
  close: () => void;
  move: DrawerMove;
}

/**
 * `listKey` names the list on screen (a filter, a query): when it changes, an open selection would point
 * at a different image, so it is dropped. `resolve` finds the image at an index; it may answer at once
 * (a loaded item opens without waiting a tick) or later (one still to be fetched). Keep it stable.
 */
export function useGridSelection(
  listKey: string,
  resolve: (index: number) => ImageId | undefined | Promise<ImageId | undefined>,
): GridSelection {
  const [selection, setSelection] = useState<GridSelection['selection']>(null);
  const [selectionKey, setSelectionKey] = useState(listKey);
  if (selectionKey !== listKey) {
    setSelectionKey(listKey);
    setSelection(null);
  }
  const grid = useRef<GridHandle>(null);

  const select = useCallback(
    (index: number) => {
      const show = (id: ImageId | undefined): void => {
        if (id === undefined) return;
        setSelection({ index, id });
        grid.current?.scrollToIndex(index);
      };
      const id = resolve(index);
      if (id instanceof Promise) void id.then(show);
      else show(id);
    },
    [resolve],
  );

  const selectedIndex = selection?.index ?? null;
  const move: DrawerMove = useMemo(
    () => ({
      step: (delta) => {
        if (selectedIndex === null) return;
        const cols = grid.current?.columns() ?? 1;
        select(selectedIndex + (delta === 'row-up' ? -cols : delta === 'row-down' ? cols : delta));
      },
    }),
    [select, selectedIndex],
  );
  const close = useCallback(() => setSelection(null), []);

  return { grid, selection, selectedIndex, select, close, move };
}
