// The ranked results as a virtualized grid: the library's cells (same sizes and styles, so the two
// views read alike), with the rank on the image and the cosine score under it. Results are a plain
// array already in memory (top-K), so there is no paging here, only windowing.
import { useElementSize } from '@mantine/hooks';
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useImperativeHandle, useRef } from 'react';
import type { SearchHitView } from '../../../../shared/domain';
import { imageUrl } from '../../lib/api';
import type { GridHandle } from '../library/ImageGrid';
import grid from '../library/ImageGrid.module.css';
import classes from './ResultGrid.module.css';

const CELL_W = 132;
const FRAME_H = 200;
const LABEL_H = 26;
const GAP = 12;
const ROW_H = FRAME_H + LABEL_H + GAP;

const Cell = memo(function Cell({
  index,
  hit,
  selected,
  onOpen,
}: {
  index: number;
  hit: SearchHitView;
  selected: boolean;
  onOpen: (index: number) => void;
}): React.JSX.Element {
  const { image } = hit;
  return (
    <div
      className={grid.cell}
      role="gridcell"
      tabIndex={-1}
      aria-selected={selected}
      aria-label={`Rank ${hit.rank}, score ${hit.score.toFixed(3)}`}
      data-index={index}
      data-rank={hit.rank}
      data-score={hit.score}
      data-image-id={image.id}
      onClick={() => onOpen(index)}
    >
      <div className={`${grid.frame} ${classes.frame}`}>
        <img
          src={imageUrl(image.id, 'thumb')}
          loading="lazy"
          decoding="async"
          alt={image.personId ? `Person ${image.personId}` : image.relPath}
          draggable={false}
        />
        <span className={classes.rank} data-testid="result-rank">
          {hit.rank}
        </span>
      </div>
      <div className={grid.label}>
        <span className={grid.person}>{image.personId ?? 'no id'}</span>
        <span className={classes.score} title="Cosine similarity of the query and the image" data-testid="result-score">
          {hit.score.toFixed(3)}
        </span>
      </div>
    </div>
  );
});

export function ResultGrid({
  results,
  selectedIndex,
  onOpen,
  ref,
}: {
  results: SearchHitView[];
  selectedIndex: number | null;
  onOpen: (index: number) => void;
  ref?: React.Ref<GridHandle>;
}): React.JSX.Element {
  const { ref: sizeRef, width } = useElementSize<HTMLDivElement>();
  const scrollRef = useRef<HTMLDivElement | null>(null);
  const total = results.length;
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
      className={grid.scroller}
      style={style}
      role="grid"
      aria-rowcount={rowCount}
      aria-colcount={columns}
      aria-label="Search results"
      data-testid="search-grid"
      data-total={total}
    >
      <div style={{ height: virtualizer.getTotalSize(), position: 'relative', width: '100%' }}>
        {width > 0 &&
          virtualizer.getVirtualItems().map((row) => {
            const start = row.index * columns;
            const cells: React.JSX.Element[] = [];
            for (let i = start; i < Math.min(start + columns, total); i++) {
              cells.push(<Cell key={i} index={i} hit={results[i]!} selected={selectedIndex === i} onOpen={onOpen} />);
            }
            return (
              <div
                key={row.key}
                className={grid.row}
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
