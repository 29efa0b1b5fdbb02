// MTI's settings for the searches started from the Conversation tab: the paper's knobs (K, ξ, λ, rounds,
// questions) and the cost knob of the anchor checks. Kept in localStorage, so they hold across reloads;
// each saved search keeps the settings it ran with in its transcript.
import {
  ActionIcon,
  Button,
  Group,
  NumberInput,
  Popover,
  SimpleGrid,
  Stack,
  Text,
  Tooltip,
} from '@mantine/core';
import { IconAdjustments } from '@tabler/icons-react';
import { useCallback, useState } from 'react';
import { MTI_DEFAULTS, type MtiParams } from '#shared/mti/types';

export const CHECK_CONCURRENCY_HINT =
  'Anchor checks in flight at once, started in rank order. The anchor is the first “yes” in rank order whatever this is: ' +
  'K checks the whole top-K at once (shortest round, most MLLM calls); 1 asks one candidate at a time (fewest calls, longest round).';

const STORAGE_KEY = 'ctgi.mti.params';

function load(): MtiParams {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    return raw ? { ...MTI_DEFAULTS, ...(JSON.parse(raw) as Partial<MtiParams>) } : MTI_DEFAULTS;
  } catch {
    return MTI_DEFAULTS;
  }
}

/** The settings and a setter that also remembers them. */
export function useMtiParams(): [MtiParams, (p: MtiParams) => void] {
  const [params, setParams] = useState<MtiParams>(load);
  const set = useCallback((p: MtiParams) => {
    setParams(p);
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(p));
    } catch {
      // Private mode or a full store: the settings still hold for this page.
    }
  }, []);
  return [params, set];
}

const FIELDS: {
  key: keyof MtiParams;
  label: string;
  hint: string;
  min: number;
  max: number;
  step?: number;
  decimals?: number;
}[] = [
  {
    key: 'k',
    label: 'K candidates',
    hint: 'Top candidates examined for an anchor per round (paper: 20).',
    min: 1,
    max: 200,
  },
  { key: 'checkConcurrency', label: 'Checks at once', hint: CHECK_CONCURRENCY_HINT, min: 1, max: 256 },
  {
    key: 'xi',
    label: 'ξ early exit',
    hint: 'Above this top-1 cosine a confirmed top candidate ends the search at once; depends on the model (see the MTI report).',
    min: -1,
    max: 2,
    step: 0.05,
    decimals: 3,
  },
  {
    key: 'lambda',
    label: 'λ',
    hint: 'Weight of your words in λ·S(q,v) + (1−λ)·S(q̂,v) (reference: 0.8).',
    min: 0,
    max: 1,
    step: 0.05,
    decimals: 2,
  },
  {
    key: 'rounds',
    label: 'Rounds',
    hint: 'Rounds run without you; each later one examines the next candidates.',
    min: 0,
    max: 20,
  },
  {
    key: 'questions',
    label: 'Questions',
    hint: 'Diagnostic questions per round, at most (asked in one call).',
    min: 0,
    max: 30,
  },
];

export function MtiSettings({
  params,
  onChange,
}: {
  params: MtiParams;
  onChange: (p: MtiParams) => void;
}): React.JSX.Element {
  const [opened, setOpened] = useState(false);
  return (
    <Popover opened={opened} onChange={setOpened} position="bottom-end" withArrow shadow="md" width={360}>
      <Popover.Target>
        <Tooltip label="MTI settings">
          <ActionIcon
            variant="default"
            size="lg"
            aria-label="MTI settings"
            onClick={() => setOpened((o) => !o)}
            data-testid="mti-settings"
          >
            <IconAdjustments size={16} />
          </ActionIcon>
        </Tooltip>
      </Popover.Target>
      <Popover.Dropdown data-testid="mti-settings-panel">
        <Stack gap="xs">
          <Text size="sm" fw={600}>
            MTI settings for new searches
          </Text>
          <SimpleGrid cols={2} spacing="xs">
            {FIELDS.map((f) => (
              <Tooltip key={f.key} label={f.hint} withArrow multiline w={260} openDelay={300}>
                <NumberInput
                  size="xs"
                  label={f.label}
                  min={f.min}
                  max={f.max}
                  step={f.step ?? 1}
                  decimalScale={f.decimals ?? 0}
                  value={params[f.key]}
                  onChange={(v) => {
                    const n = Number(v);
                    if (v === '' || !Number.isFinite(n)) return;
                    onChange({ ...params, [f.key]: Math.min(f.max, Math.max(f.min, n)) });
                  }}
                  data-testid={`mti-setting-${f.key}`}
                />
              </Tooltip>
            ))}
          </SimpleGrid>
          <Group justify="flex-end">
            <Button
              size="xs"
              variant="subtle"
              onClick={() => onChange(MTI_DEFAULTS)}
              data-testid="mti-settings-reset"
            >
              Defaults
            </Button>
          </Group>
        </Stack>
      </Popover.Dropdown>
    </Popover>
  );
}
