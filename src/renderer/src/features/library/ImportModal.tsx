import { Alert, Button, Group, Modal, Select, Stack, Text, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconAlertTriangle, IconFileText, IconFolder, IconUpload } from '@tabler/icons-react';
import { useState } from 'react';
import type { DatasetFormat } from '../../../../shared/domain';
import { DATASET_FORMATS } from '../../../../shared/domain';
import { navigate, routeHref } from '../../app/router';
import { invoke } from '../../lib/api';
import { useAction } from '../../lib/useAction';
import { useJobs } from '../jobs/JobsProvider';
import { DATASET_FORMAT_LABEL } from './labels';

const FORMAT_OPTIONS = [
  { value: 'auto', label: 'Detect from the annotation file' },
  ...DATASET_FORMATS.map((f) => ({ value: f, label: DATASET_FORMAT_LABEL[f] })),
];

/** Starts an import job from paths on the machine that runs the workspace (the server, under `ctgi serve`). */
export function ImportModal({
  opened,
  onClose,
}: {
  opened: boolean;
  onClose: () => void;
}): React.JSX.Element {
  const { upsert } = useJobs();
  const [imageRoot, setImageRoot] = useState('');
  const [annotationFile, setAnnotationFile] = useState('');
  const [name, setName] = useState('');
  const [format, setFormat] = useState<string>('auto');
  const { busy, error, run } = useAction();

  const submit = async (e: React.FormEvent): Promise<void> => {
    e.preventDefault();
    await run(async () => {
      const { job } = await invoke('import:start', {
        imageRoot: imageRoot.trim(),
        annotationFile: annotationFile.trim() || undefined,
        name: name.trim() || undefined,
        format: format === 'auto' ? undefined : (format as DatasetFormat),
      });
      upsert(job);
      notifications.show({ color: 'indigo', title: 'Import started', message: job.title });
      setImageRoot('');
      setAnnotationFile('');
      setName('');
      setFormat('auto');
      onClose();
      navigate(routeHref('jobs'));
    });
  };

  return (
    <Modal
      opened={opened}
      onClose={onClose}
      title={<Text fw={650}>Import a dataset</Text>}
      size="lg"
      centered
    >
      <form onSubmit={(e) => void submit(e)} data-testid="import-form">
        <Stack gap="md">
          <Text size="sm" c="dimmed">
            Paths are read on the machine that holds the workspace. Images stay where they are; the library
            keeps their paths, sizes and hashes.
          </Text>
          <TextInput
            label="Image folder"
            description="The folder of images, or the folder that holds the dataset's images"
            placeholder="/data/RSTPReid/imgs"
            leftSection={<IconFolder size={16} />}
            required
            value={imageRoot}
            onChange={(e) => setImageRoot(e.currentTarget.value)}
            data-testid="import-image-root"
            data-autofocus
          />
          <TextInput
            label="Annotation file"
            description="Optional: CUHK-PEDES reid_raw.json, ICFG-PEDES or RSTPReid data_captions.json"
            placeholder="/data/RSTPReid/data_captions.json"
            leftSection={<IconFileText size={16} />}
            value={annotationFile}
            onChange={(e) => setAnnotationFile(e.currentTarget.value)}
            data-testid="import-annotations"
          />
          <Group grow align="flex-start">
            <TextInput
              label="Name"
              description="Optional; defaults to the folder name"
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
              data-testid="import-name"
            />
            <Select
              label="Format"
              description="Forced format, if detection guesses wrong"
              data={FORMAT_OPTIONS}
              value={format}
              onChange={(v) => setFormat(v ?? 'auto')}
              allowDeselect={false}
              data-testid="import-format"
            />
          </Group>
          {error && (
            <Alert
              color="red"
              icon={<IconAlertTriangle size={18} />}
              title="The import did not start"
              data-testid="import-error"
            >
              {error}
            </Alert>
          )}
          <Group justify="flex-end" mt="xs">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button
              type="submit"
              loading={busy}
              leftSection={<IconUpload size={16} />}
              disabled={!imageRoot.trim()}
              data-testid="import-submit"
            >
              Start import
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
