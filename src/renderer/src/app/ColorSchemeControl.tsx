import type { MantineColorScheme } from '@mantine/core';
import {
  ActionIcon,
  Center,
  SegmentedControl,
  Tooltip,
  useComputedColorScheme,
  useMantineColorScheme,
} from '@mantine/core';
import { IconDeviceDesktop, IconMoon, IconSun } from '@tabler/icons-react';

// Mantine's colour-scheme manager persists the choice in localStorage ('mantine-color-scheme-value').

/** The header's one-click toggle: light ↔ dark (from "auto" it goes to the opposite of what is shown). */
export function ColorSchemeToggle(): React.JSX.Element {
  const { setColorScheme } = useMantineColorScheme();
  const computed = useComputedColorScheme('light');
  const next = computed === 'dark' ? 'light' : 'dark';
  return (
    <Tooltip label={`Switch to ${next} theme`}>
      <ActionIcon
        variant="default"
        size="lg"
        aria-label={`Switch to ${next} theme`}
        data-testid="theme-toggle"
        onClick={() => setColorScheme(next)}
      >
        {computed === 'dark' ? <IconSun size={18} stroke={1.6} /> : <IconMoon size={18} stroke={1.6} />}
      </ActionIcon>
    </Tooltip>
  );
}

const item = (
  value: MantineColorScheme,
  label: string,
  icon: React.ReactNode,
): { value: string; label: React.ReactNode } => ({
  value,
  label: (
    <Center style={{ gap: 8 }}>
      {icon}
      <span>{label}</span>
    </Center>
  ),
});

/** Settings' explicit selector, including "auto" (follow the operating system). */
export function ColorSchemeSelector(): React.JSX.Element {
  const { colorScheme, setColorScheme } = useMantineColorScheme();
  return (
    <SegmentedControl
      aria-label="Theme"
      value={colorScheme}
      onChange={(v) => setColorScheme(v as MantineColorScheme)}
      data={[
        item('light', 'Light', <IconSun size={16} />),
        item('dark', 'Dark', <IconMoon size={16} />),
        item('auto', 'System', <IconDeviceDesktop size={16} />),
      ]}
    />
  );
}
