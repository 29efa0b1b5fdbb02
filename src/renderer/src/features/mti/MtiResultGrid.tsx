// MTI's re-ranked results: each cell shows the three parts of its score, S(q,v) of the analyst's words,
// S(q̂,v) of the refined query (1 for the anchor), and the fused λ·S(q,v) + (1−λ)·S(q̂,v) the rank
// follows, plus how far MTI moved it from the plain ranking. A search keeps its top rows (`mti:start`'s
// `results`, up to 1,000 today, and the ranking may carry the whole gallery later), so the grid is the
// library's virtualized one: only the rows on screen are in the DOM.
import { ActionIcon, Tooltip } from '@mantine/core';
import { IconAnchor } from '@tabler/icons-react';
import { memo } from 'react';
import type { ImageId } from '#shared/ids';
import type { MtiResultRow } from '#shared/mti/types';
import { gridClasses, Thumbnail, ThumbnailGrid, type GridHandle } from '../../lib/ThumbnailGrid';
import classes from './Mti.module.css';
import { formatClock } from '../../lib/footage/format';

/** The three score lines under the frame (11 px type, 1.35 line height, 4 + 6 px padding), rounded up. */
const SCORES_H = 56;

const Cell = memo(function Cell({
  row,
  index,
  onOpen,
  onPick,
  pickDisabled,
  selected,
}: {
  row: MtiResultRow;
  index: number;
  onOpen: (index: number) => void;
  onPick: (id: ImageId) => void;
  pickDisabled: boolean;
  selected: boolean;
}): React.JSX.Element {
  const { image } = row;
  const moved = row.baseRank - row.rank;
  return (
    // The grid's cell sets the fixed size every virtualized row relies on; MTI's adds the anchor ring
    // and the pick button that shows on hover.
    <div
      className={`${gridClasses.cell} ${classes.cell}`}
      role="gridcell"
      tabIndex={-1}
      aria-selected={selected}
      data-index={index}
      data-rank={row.rank}
      data-base-rank={row.baseRank}
      data-fused={row.fused}
      data-image-id={image.id}
      data-anchor={row.anchor}
      aria-label={`Rank ${row.rank}, fused score ${row.fused.toFixed(3)}`}
      onClick={() => onOpen(index)}
    >
      <div className={gridClasses.frame}>
        <Thumbnail image={image} />
        <span className={gridClasses.rank} data-testid="mti-rank">
          {row.rank}
        </span>
        {row.footage && (
          <span
            data-testid="mti-footage"
            title={`${row.footage.camera}, ${formatClock(row.footage.timeMs, row.footage.frameTime)}, track ${row.footage.trackId}`}
            style={{
              position: 'absolute',
              left: 4,
              bottom: 4,
              fontSize: 10,
              padding: '0 4px',
              borderRadius: 4,
              color: 'white',
              background: 'rgba(0, 0, 0, 0.6)',
            }}
          >
            {row.footage.camera} {formatClock(row.footage.timeMs, row.footage.frameTime).slice(-8)}
          </span>
        )}
        {moved !== 0 && (
          <Tooltip label={`Rank ${row.baseRank} by the query alone`} withArrow>
            <span
              className={classes.moved}
              style={{ background: moved > 0 ? 'var(--mantine-color-teal-7)' : 'var(--mantine-color-red-7)' }}
              data-testid="mti-moved"
            >
              {moved > 0 ? `▲${moved}` : `▼${-moved}`}
            </span>
          </Tooltip>
        )}
        <Tooltip label={row.anchor ? 'The anchor of this ranking' : 'Use this image as the anchor'} withArrow>
          <ActionIcon
            className={classes.pick}
            size="sm"
            radius="xl"
            variant={row.anchor ? 'filled' : 'default'}
            color="teal"
            aria-label={row.anchor ? 'Anchor' : 'Pick as anchor'}
            disabled={pickDisabled && !row.anchor}
            data-testid="mti-pick-anchor"
            onClick={(e) => {
              e.stopPropagation();
              if (!row.anchor) onPick(image.id);
            }}
          >
            <IconAnchor size={13} />
          </ActionIcon>
        </Tooltip>
      </div>
      <dl className={classes.scores} style={{ height: SCORES_H, flex: '0 0 auto' }} data-testid="mti-scores">
        <dt title="Cosine of your query and the image">S(q,v)</dt>
        <dd data-testid="mti-score-base">{row.base.toFixed(3)}</dd>
        <dt title="Cosine of the refined query q̂ and the image (1 for the anchor)">S(q̂,v)</dt>
        <dd data-testid="mti-score-refined">{row.refined === null ? '—' : row.refined.toFixed(3)}</dd>
        <dt className={classes.fused} title="λ·S(q,v) + (1−λ)·S(q̂,v): the rank follows this">
          fused
        </dt>
        <dd className={classes.fused} data-testid="mti-score-fused">
          {row.fused.toFixed(3)}
        </dd>
      </dl>
    </div>
  );
});

export function MtiResultGrid({
  rows,
  onOpen,
  onPick,
  busy,
  selectedIndex = null,
  ref,
}: {
  rows: MtiResultRow[];
  onOpen: (index: number) => void;
  onPick: (id: ImageId) => void;
  busy: boolean;
  /** The row open in the drawer, outlined (and kept on screen by the caller through `ref`). */
  selectedIndex?: number | null;
  /** Scrolls to a rank and tells how many columns fit, for stepping through the grid by rows. */
  ref?: React.Ref<GridHandle>;
}): React.JSX.Element {
  return (
    <ThumbnailGrid
      ref={ref}
      total={rows.length}
      labelHeight={SCORES_H}
      ariaLabel="Re-ranked results"
      testId="mti-grid"
      renderCell={(i) => (
        <Cell
          row={rows[i]!}
          index={i}
          onOpen={onOpen}
          onPick={onPick}
          pickDisabled={busy}
          selected={selectedIndex === i}
        />
      )}
    />
  );
}
