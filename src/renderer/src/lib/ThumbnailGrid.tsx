// The virtualized thumbnail grid the library and the search results share: columns follow the width,
// only the rows on screen (plus a few) are in the DOM, and every cell has the same fixed size so the
// virtualizer never measures. What goes in a cell, and where its data comes from, is the caller's.
import { useElementSize } from '@mantine/hooks';
import { useVirtualizer } from '@tanstack/react-virtual';
import { Fragment, useEffect, useImperativeHandle, useRef } from 'react';
import type { ImageSummary } from '#shared/library/types';
import { imageUrl } from './api';
import classes from './ThumbnailGrid.module.css';

/** How long the visible rows must stay put before their pages are fetched. */
const RANGE_SETTLE_MS = 50;

// Person crops are portrait; the frame is about 1:2 with room for the label underneath.
const CELL_W = 132;
const FRAME_H = 200;
const LABEL_H = 26;
const GAP = 12;

/** The cell, frame, label and rank-badge classes, for cells that should read like every other grid's. */
export const gridClasses = classes;

export interface GridHandle {
  scrollToIndex(index: number): void;
  columns(): number;
}

/** A person crop's thumbnail, letterboxed by the frame around it. */
export function Thumbnail({
  image,
}: {
  image: Pick<ImageSummary, 'id' | 'personId' | 'relPath'>;
}): React.JSX.Element {
  return (
    <img
      src={imageUrl(image.id, 'thumb')}
      loading="lazy"
      decoding="async"
      alt={image.personId ? `Person ${image.personId}` : image.relPath}
      draggable={false}
    />
  );
}

export function ThumbnailGrid({
  total,
  renderCell,
  onVisibleRange,
  ariaLabel,
  testId,
  labelHeight = LABEL_H,
  ref,
}: {
  total: number;
  /** The cell at `index` (below `total`); the grid keys it by index. */
  renderCell: (index: number) => React.ReactNode;
  /** Told the item range [start, end) the rows on screen cover, so a pager can fetch just those. */
  onVisibleRange?: (start: number, end: number) => void;
  ariaLabel: string;
  testId: string;
  /**
   * Pixels under each frame: one label line unless the cells show more (MTI's three score lines). Every
   * cell of a grid is this tall, so the rows keep one fixed height and the virtualizer never measures.
   */
  labelHeight?: number;
  ref?: React.Ref<GridHandle>;
}): React.JSX.Element {
  const { ref: sizeRef, width } = useElementSize<HTMLDivElement>();
  const rowH = FRAME_H + labelHeight + GAP;
  const scrollRef = useRef<HTMLDivElement | null>(null);
  const columns = Math.max(1, Math.floor((width - GAP) / (CELL_W + GAP)));
  const rowCount = Math.ceil(total / columns);

  const virtualizer = useVirtualizer({
    count: rowCount,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => rowH,
    overscan: 3,
    paddingStart: GAP,
    paddingEnd: GAP,
  });
  // The virtualizer memoizes row offsets and would keep the old height if a caller changed the label
  // height; re-estimate then (not on mount, which needs no second render).
  const measuredRowH = useRef(rowH);
  useEffect(() => {
    if (measuredRowH.current === rowH) return;
    measuredRowH.current = rowH;
    virtualizer.measure();
  }, [virtualizer, rowH]);
  const rows = virtualizer.getVirtualItems();
  const firstRow = rows[0]?.index ?? 0;
  const lastRow = rows.at(-1)?.index ?? 0;

  // Ask for the rows on screen once they have stayed there a moment: a fast flick through 100,000
  // images then fetches the pages where it stops, not every page it passes (at reading speed the rows
  // change every ~100 ms, so they still load as they come into view).
  useEffect(() => {
    if (total === 0 || !onVisibleRange) return;
    const timer = setTimeout(
      () => onVisibleRange(firstRow * columns, (lastRow + 1) * columns),
      RANGE_SETTLE_MS,
    );
    return () => clearTimeout(timer);
  }, [onVisibleRange, firstRow, lastRow, columns, total]);

  useImperativeHandle(
    ref,
    () => ({
      scrollToIndex: (index) => virtualizer.scrollToIndex(Math.floor(index / columns), { align: 'auto' }),
      columns: () => columns,
    }),
    [virtualizer, columns],
  );

  const style = {
    '--cell-w': `${CELL_W}px`,
    '--row-h': `${rowH}px`,
    '--label-h': `${labelHeight}px`,
    '--grid-gap': `${GAP}px`,
  } as React.CSSProperties;

  return (
    <div
      ref={(el) => {
        scrollRef.current = el;
        sizeRef(el);
      }}
      className={classes.scroller}
      style={style}
      role="grid"
      aria-rowcount={rowCount}
      aria-colcount={columns}
      aria-label={ariaLabel}
      data-testid={testId}
      data-total={total}
    >
      <div style={{ height: virtualizer.getTotalSize(), position: 'relative', width: '100%' }}>
        {width > 0 &&
          rows.map((row) => {
            const start = row.index * columns;
            const cells: React.JSX.Element[] = [];
            for (let i = start; i < Math.min(start + columns, total); i++) {
              cells.push(<Fragment key={i}>{renderCell(i)}</Fragment>);
            }
            return (
              <div
                key={row.key}
                className={classes.row}
                role="row"
                aria-rowindex={row.index + 1}
                style={{ height: rowH, transform: `translateY(${row.start}px)` }}
              >
                {cells}
              </div>
            );
          })}
      </div>
    </div>
  );
}
