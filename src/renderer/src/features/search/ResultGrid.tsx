// The ranked results as a virtualized grid: the library's cells (same sizes and styles, so the two
// views read alike), with the rank on the image and the cosine score under it. Results are a plain
// array already in memory (top-K), so there is no paging here, only windowing.
import { memo } from 'react';
import type { SearchHitView } from '#shared/search/types';
import { gridClasses as grid, Thumbnail, ThumbnailGrid, type GridHandle } from '../../lib/ThumbnailGrid';
import classes from './ResultGrid.module.css';
import { formatClock } from '../../lib/footage/format';

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
      <div className={grid.frame}>
        <Thumbnail image={image} />
        <span className={grid.rank} data-testid="result-rank">
          {hit.rank}
        </span>
      </div>
      <div className={grid.label}>
        <span className={grid.person} data-testid={hit.footage ? 'result-footage' : undefined}>
          {hit.footage
            ? `${hit.footage.camera} ${formatClock(hit.footage.timeMs, hit.footage.frameTime).slice(-8)}`
            : (image.personId ?? 'no id')}
        </span>
        <span
          className={classes.score}
          title="Cosine similarity of the query and the image"
          data-testid="result-score"
        >
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
  return (
    <ThumbnailGrid
      ref={ref}
      total={results.length}
      ariaLabel="Search results"
      testId="search-grid"
      renderCell={(i) => <Cell index={i} hit={results[i]!} selected={selectedIndex === i} onOpen={onOpen} />}
    />
  );
}
