// The image large, with zoom (wheel, + / − keys) and pan (drag). Zoom keeps the point under the cursor
// still, so one can look closely at a bag strap without losing it off-screen.
import { ActionIcon, Box, Group, Text, Tooltip } from '@mantine/core';
import { IconZoomIn, IconZoomOut, IconZoomReset } from '@tabler/icons-react';
import { forwardRef, useCallback, useImperativeHandle, useRef, useState } from 'react';
import classes from './Review.module.css';

export interface ImageViewerHandle {
  zoom(factor: number): void;
  reset(): void;
}

interface View {
  scale: number;
  x: number;
  y: number;
}

const MIN = 1;
const MAX = 12;
const IDENTITY: View = { scale: 1, x: 0, y: 0 };

export const ImageViewer = forwardRef<ImageViewerHandle, { src: string; alt: string; captionId: number }>(
  function ImageViewer({ src, alt, captionId }, ref) {
    const [view, setView] = useState<View>(IDENTITY);
    const [viewKey, setViewKey] = useState(src);
    const box = useRef<HTMLDivElement>(null);
    const drag = useRef<{ x: number; y: number; vx: number; vy: number } | null>(null);
    // A new image starts unzoomed (state reset during render, keyed by the image).
    if (viewKey !== src) {
      setViewKey(src);
      setView(IDENTITY);
    }

    const zoomAt = useCallback((factor: number, cx = 0, cy = 0) => {
      setView((v) => {
        const scale = Math.min(MAX, Math.max(MIN, v.scale * factor));
        if (scale === MIN) return IDENTITY;
        const k = scale / v.scale;
        // Keep the point (cx, cy), relative to the box centre, fixed on screen.
        return { scale, x: cx - (cx - v.x) * k, y: cy - (cy - v.y) * k };
      });
    }, []);

    useImperativeHandle(ref, () => ({ zoom: (f) => zoomAt(f), reset: () => setView(IDENTITY) }), [zoomAt]);

    const centreOffset = (e: { clientX: number; clientY: number }): [number, number] => {
      const r = box.current!.getBoundingClientRect();
      return [e.clientX - (r.left + r.width / 2), e.clientY - (r.top + r.height / 2)];
    };

    return (
      <Box pos="relative" h="100%">
        <div
          ref={box}
          className={classes.viewer}
          data-testid="review-viewer"
          onWheel={(e) => {
            const [cx, cy] = centreOffset(e);
            zoomAt(e.deltaY < 0 ? 1.2 : 1 / 1.2, cx, cy);
          }}
          onPointerDown={(e) => {
            if (view.scale === 1) return;
            drag.current = { x: e.clientX, y: e.clientY, vx: view.x, vy: view.y };
            e.currentTarget.setPointerCapture(e.pointerId);
          }}
          onPointerMove={(e) => {
            const d = drag.current;
            if (d) setView((v) => ({ ...v, x: d.vx + e.clientX - d.x, y: d.vy + e.clientY - d.y }));
          }}
          onPointerUp={() => (drag.current = null)}
          onDoubleClick={() => setView(IDENTITY)}
          style={{ cursor: view.scale > 1 ? 'grab' : 'zoom-in' }}
        >
          <img
            src={src}
            alt={alt}
            draggable={false}
            data-testid="review-image"
            data-caption-id={captionId}
            style={{ transform: `translate(${view.x}px, ${view.y}px) scale(${view.scale})` }}
          />
        </div>
        <Group gap={4} pos="absolute" bottom={8} right={8}>
          <Text size="xs" c="dimmed" mr={4} data-testid="review-zoom">
            {Math.round(view.scale * 100)}%
          </Text>
          <Tooltip label="Zoom out (−)">
            <ActionIcon variant="default" size="sm" aria-label="Zoom out" onClick={() => zoomAt(1 / 1.5)}>
              <IconZoomOut size={14} />
            </ActionIcon>
          </Tooltip>
          <Tooltip label="Zoom in (+)">
            <ActionIcon variant="default" size="sm" aria-label="Zoom in" onClick={() => zoomAt(1.5)}>
              <IconZoomIn size={14} />
            </ActionIcon>
          </Tooltip>
          <Tooltip label="Fit (0)">
            <ActionIcon variant="default" size="sm" aria-label="Fit image" onClick={() => setView(IDENTITY)}>
              <IconZoomReset size={14} />
            </ActionIcon>
          </Tooltip>
        </Group>
      </Box>
    );
  },
);
