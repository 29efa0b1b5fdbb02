// MTI's re-ranked results: each cell shows the three parts of its score, S(q,v) of the analyst's words,
// S(q̂,v) of the refined query (1 for the anchor), and the fused λ·S(q,v) + (1−λ)·S(q̂,v) the rank
// follows, plus how far MTI moved it from the plain ranking. At most a few hundred rows are kept with a
// search, so a plain CSS grid is enough (no windowing).
import { ActionIcon, Tooltip } from '@mantine/core';
import { IconAnchor } from '@tabler/icons-react';
import { memo } from 'react';
import type { ImageId } from '../../../../shared/ids';
import type { MtiResultRow } from '../../../../shared/mti';
import { gridClasses, Thumbnail } from '../../lib/ThumbnailGrid';
import classes from './Mti.module.css';

const Cell = memo(function Cell({
  row,
  index,
  onOpen,
  onPick,
  pickDisabled,
}: {
  row: MtiResultRow;
  index: number;
  onOpen: (index: number) => void;
  onPick: (id: ImageId) => void;
  pickDisabled: boolean;
}): React.JSX.Element {
  const { image } = row;
  const moved = row.baseRank - row.rank;
  return (
    <div
      className={classes.cell}
      role="gridcell"
      tabIndex={-1}
      data-rank={row.rank}
      data-base-rank={row.baseRank}
      data-fused={row.fused}
      data-image-id={image.id}
      data-anchor={row.anchor}
      aria-label={`Rank ${row.rank}, fused score ${row.fused.toFixed(3)}`}
      onClick={() => onOpen(index)}
    >
      <div className={classes.frame}>
        <Thumbnail image={image} />
        <span className={gridClasses.rank} data-testid="mti-rank">
          {row.rank}
        </span>
        {moved !== 0 && (
          <Tooltip label={`Rank ${row.baseRank} by the query alone`} withArrow>
            <span className={classes.moved} style={{ background: moved > 0 ? 'var(--mantine-color-teal-7)' : 'var(--mantine-color-red-7)' }} data-testid="mti-moved">
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
      <dl className={classes.scores} data-testid="mti-scores">
        <dt title="Cosine of your query and the image">S(q,v)</dt>
        <dd data-testid="mti-score-base">{row.base.toFixed(3)}</dd>
        <dt title="Cosine of the refined query q̂ and the image (1 for the anchor)">S(q̂,v)</dt>
        <dd data-testid="mti-score-refined">{row.refined === null ? '—' : row.refined.toFixed(3)}</dd>
        <dt className={classes.fused} title="λ·S(q,v) + (1−λ)·S(q̂,v): the rank follows this">fused</dt>
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
}: {
  rows: MtiResultRow[];
  onOpen: (index: number) => void;
  onPick: (id: ImageId) => void;
  busy: boolean;
}): React.JSX.Element {
  return (
    <div className={classes.grid} role="grid" aria-label="Re-ranked results" data-testid="mti-grid" data-total={rows.length}>
      {rows.map((row, i) => (
        <Cell key={row.image.id} row={row} index={i} onOpen={onOpen} onPick={onPick} pickDisabled={busy} />
      ))}
    </div>
  );
}
