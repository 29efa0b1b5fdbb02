import { IconMessage } from '@tabler/icons-react';
import { memo, useCallback, useEffect, useState } from 'react';
import type { ImageSummary } from '#shared/library/types';
import { gridClasses as grid, Thumbnail, ThumbnailGrid, type GridHandle } from '../../lib/ThumbnailGrid';
import classes from './ImageGrid.module.css';
import type { PagedImages } from './usePagedImages';

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
      className={grid.cell}
      role="gridcell"
      tabIndex={-1}
      aria-selected={selected}
      aria-busy={item ? undefined : true}
      data-index={index}
      data-image-id={item?.id}
      onClick={() => onOpen(index)}
    >
      {item && settled ? (
        <div className={grid.frame}>
          <Thumbnail image={item} />
        </div>
      ) : (
        <div className={grid.pending} />
      )}
      <div className={grid.label}>
        <span className={grid.person}>{item ? (item.personId ?? 'no id') : ' '}</span>
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
  // Re-asked whenever the pager changes (a page landed, the filter changed), not only on scroll.
  const want = useCallback((start: number, end: number) => paged.want(start, end), [paged]);
  return (
    <ThumbnailGrid
      ref={ref}
      total={paged.total ?? 0}
      onVisibleRange={want}
      ariaLabel="Images"
      testId="image-grid"
      renderCell={(i) => (
        <Cell index={i} item={paged.get(i)} selected={selectedIndex === i} onOpen={onOpen} />
      )}
    />
  );
}
