/**
 * Solution 5.3: the process a container runs.
 */
import { RuntimeError, type ContainerConfig } from '#lib/runtime/cri.ts';

export function containerArgs(image: { Entrypoint?: string[]; Cmd?: string[] }, config: Pick<ContainerConfig, 'command' | 'args' | 'image'>): string[] {
  const hasCommand = config.command.length > 0;
  const program = hasCommand ? config.command : (image.Entrypoint ?? []);
  // A command of its own means the image's default arguments no longer apply.
  const args = config.args.length > 0 ? config.args : hasCommand ? [] : (image.Cmd ?? []);
  const argv = [...program, ...args];
  if (argv.length === 0) throw new RuntimeError('CreateContainerError', `expected a command from the Pod or the image ${config.image}, got none`);
  return argv;
}
