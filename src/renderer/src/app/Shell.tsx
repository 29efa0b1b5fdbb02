import {
  AppShell,
  Badge,
  Burger,
  Group,
  Loader,
  NavLink,
  Text,
  ThemeIcon,
  Tooltip,
  UnstyledButton,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import {
  IconChecklist,
  IconListDetails,
  IconMovie,
  IconPhoto,
  IconScan,
  IconSearch,
  IconSettings,
} from '@tabler/icons-react';
import { isActive, useJobs } from '../lib/jobs';
import { JobsView } from '../features/jobs/JobsView';
import { LibraryView } from '../features/library/LibraryView';
import { ReviewView } from '../features/review/ReviewView';
import { SearchView } from '../features/search/SearchView';
import { FootageView } from '../features/footage/FootageView';
import { SettingsView } from '../features/settings/SettingsView';
import { ColorSchemeToggle } from './ColorSchemeControl';
import { HeaderStats } from './HeaderStats';
import type { View } from './router';
import { routeHref, useRoute } from './router';

const NAV: { view: View; label: string; icon: React.ReactNode; hint: string }[] = [
  {
    view: 'library',
    label: 'Library',
    icon: <IconPhoto size={18} stroke={1.6} />,
    hint: 'Images and captions',
  },
  {
    view: 'review',
    label: 'Review',
    icon: <IconChecklist size={18} stroke={1.6} />,
    hint: 'Audit generated captions',
  },
  {
    view: 'search',
    label: 'Search',
    icon: <IconSearch size={18} stroke={1.6} />,
    hint: 'Find people by description',
  },
  {
    view: 'footage',
    label: 'Footage',
    icon: <IconMovie size={18} stroke={1.6} />,
    hint: 'Cameras and recordings',
  },
  {
    view: 'jobs',
    label: 'Jobs',
    icon: <IconListDetails size={18} stroke={1.6} />,
    hint: 'Imports and batch work',
  },
  {
    view: 'settings',
    label: 'Settings',
    icon: <IconSettings size={18} stroke={1.6} />,
    hint: 'Theme and workspace',
  },
];

function RunningJobs(): React.JSX.Element | null {
  const { jobs } = useJobs();
  const active = jobs.filter(isActive);
  if (active.length === 0) return null;
  const label = active.length === 1 ? active[0]!.title : `${active.length} jobs running`;
  return (
    <Tooltip label="Open Jobs">
      <UnstyledButton component="a" href={routeHref('jobs')} data-testid="running-jobs">
        <Badge
          size="lg"
          variant="light"
          leftSection={<Loader size={12} />}
          styles={{ label: { maxWidth: 220 } }}
        >
          {label}
        </Badge>
      </UnstyledButton>
    </Tooltip>
  );
}

function CurrentView({ view }: { view: View }): React.JSX.Element {
  switch (view) {
    case 'library':
      return <LibraryView />;
    case 'jobs':
      return <JobsView />;
    case 'settings':
      return <SettingsView />;
    case 'review':
      return <ReviewView />;
    case 'search':
      return <SearchView />;
    case 'footage':
      return <FootageView />;
  }
}

export function Shell(): React.JSX.Element {
  const { view } = useRoute();
  const [opened, { toggle, close }] = useDisclosure(false);
  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="lg"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger
              opened={opened}
              onClick={toggle}
              hiddenFrom="sm"
              size="sm"
              aria-label="Toggle navigation"
            />
            <ThemeIcon
              size={30}
              radius="md"
              variant="gradient"
              gradient={{ from: 'indigo', to: 'cyan', deg: 135 }}
            >
              <IconScan size={18} />
            </ThemeIcon>
            <Text fw={700} size="lg" style={{ letterSpacing: '-0.01em' }}>
              CTGI Studio
            </Text>
          </Group>
          <Group gap="md" wrap="nowrap">
            <HeaderStats />
            <RunningJobs />
            <ColorSchemeToggle />
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="sm">
        <nav aria-label="Main">
          {NAV.map((n) => (
            <NavLink
              key={n.view}
              href={routeHref(n.view)}
              label={n.label}
              description={n.hint}
              leftSection={n.icon}
              active={view === n.view}
              onClick={close}
              variant="light"
              mb={4}
              style={{ borderRadius: 'var(--mantine-radius-md)' }}
              data-testid={`nav-${n.view}`}
            />
          ))}
        </nav>
      </AppShell.Navbar>
      <AppShell.Main style={{ height: '100dvh', display: 'flex', flexDirection: 'column' }}>
        <CurrentView view={view} />
      </AppShell.Main>
    </AppShell>
  );
}
