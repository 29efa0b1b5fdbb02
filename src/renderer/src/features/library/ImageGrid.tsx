import { useElementSize } from '@mantine/hooks';
import { IconMessage } from '@tabler/icons-react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useEffect, useImperativeHandle, useRef, useState } from 'react';
import type { ImageSummary } from '../../../../shared/domain';
import { imageUrl } from '../../lib/api';
import classes from './ImageGrid.module.css';
import type { PagedImages } from './usePagedImages';

// Fixed-size cells: the virtualizer never measures, so a 100,000-image scroll costs only the rows on
// screen. Person crops are portrait; the frame is about 1:2 with room for the label underneath.
const CELL_W = 132;
const FRAME_H = 200;
const LABEL_H = 26;
const GAP = 12;
const ROW_H = FRAME_H + LABEL_H + GAP;

/**
 * A cell asks for its thumbnail only once it has stayed on screen this long. In a fast scroll rows
 * live for a frame or two; requesting and decoding images for them would only compete with the frames.
 */
const IMAGE_DELAY_MS = 90;

function useSettled(delayMs: number): boolean {
  const [settled, setSettled] = useState(false);
  useEffect(() => {
    const t = setTimeout(() => setSettled(true), delayMs);
    return () => clearTimeout(t);
  }, [delayMs]);
  return settled;
}

export interface GridHandle {
  scrollToIndex(index: number): void;
  columns(): number;
}

const Cell = memo(function Cell({
  index,
  item,
  selected,
  onOpen,
}: {
  index: number;
  item: ImageSummary | undefined;
  selected: boolean;
  onOpen: (index: number) => void;
}): React.JSX.Element {
  const settled = useSettled(IMAGE_DELAY_MS);
  return (
    <div
      className={classes.cell}
      role="gridcell"
      tabIndex={-1}
      aria-selected={selected}
      aria-busy={item ? undefined : true}
      data-index={index}
      data-image-id={item?.id}
      onClick={() => onOpen(index)}
    >
      {item && settled ? (
        <div className={classes.frame}>
          <img
            src={imageUrl(item.id, 'thumb')}
            loading="lazy"
            decoding="async"
            alt={item.personId ? `Person ${item.personId}` : item.relPath}
            draggable={false}
          />
        </div>
      ) : (
        <div className={classes.pending} />
      )}
      <div className={classes.label}>
        <span className={classes.person}>{item ? (item.personId ?? 'no id') : ' '}</span>
        {item && (
          <span
            className={`${classes.captions} ${item.captionCount === 0 ? classes.noCaptions : ''}`}
            title={`${item.captionCount} caption${item.captionCount === 1 ? '' : 's'}`}
          >
            <IconMessage size={12} />
            {item.captionCount}
          </span>
        )}
      </div>
    </div>
  );
});

export function ImageGrid({
  paged,
  selectedIndex,
  onOpen,
  ref,
}: {
  paged: PagedImages;
  selectedIndex: number | null;
  onOpen: (index: number) => void;
  ref?: React.Ref<GridHandle>;
}): React.JSX.Element {
  const { ref: sizeRef, width } = useElementSize<HTMLDivElement>();
  const scrollRef = useRef<HTMLDivElement | null>(null);
  const total = paged.total ?? 0;
  const columns = Math.max(1, Math.floor((width - GAP) / (CELL_W + GAP)));
  const rowCount = Math.ceil(total / columns);

  const virtualizer = useVirtualizer({
    count: rowCount,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_H,
    overscan: 3,
    paddingStart: GAP,
    paddingEnd: GAP,
  });
  const rows = virtualizer.getVirtualItems();
  const firstRow = rows[0]?.index ?? 0;
  const lastRow = rows.at(-1)?.index ?? 0;

  useEffect(() => {
    if (total === 0) return;
    paged.want(firstRow * columns, (lastRow + 1) * columns);
  }, [paged, firstRow, lastRow, columns, total]);

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
    '--row-h': `${ROW_H}px`,
    '--label-h': `${LABEL_H}px`,
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
      aria-label="Images"
      data-testid="image-grid"
      data-total={total}
    >
      <div style={{ height: virtualizer.getTotalSize(), position: 'relative', width: '100%' }}>
        {width > 0 &&
          rows.map((row) => {
            const start = row.index * columns;
            const cells: React.JSX.Element[] = [];
            for (let i = start; i < Math.min(start + columns, total); i++) {
              cells.push(
                <Cell key={i} index={i} item={paged.get(i)} selected={selectedIndex === i} onOpen={onOpen} />,
              );
            }
            return (
              <div
                key={row.key}
                className={classes.row}
                role="row"
                aria-rowindex={row.index + 1}
                style={{ height: ROW_H, transform: `translateY(${row.start}px)` }}
              >
                {cells}
              </div>
            );
          })}
      </div>
    </div>
  );
}
