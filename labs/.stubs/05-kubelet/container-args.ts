/**
 * Exercise 5.3: the process a container runs.
 *
 * An image says what it runs in its config: `Entrypoint` (the program, and
 * maybe fixed arguments) and `Cmd` (default arguments, or the whole command
 * when there is no Entrypoint). A Pod's container may override both: its
 * `command` replaces the image's Entrypoint, and its `args` replace the
 * image's Cmd. The container runtime joins the two into the argv it
 * executes, as Kubernetes documents:
 *
 *   command   args      runs
 *   none      none      image Entrypoint + image Cmd
 *   none      given     image Entrypoint + args
 *   given     none      command only (the image's Cmd is dropped too!)
 *   given     given     command + args
 *
 * ("none" means an empty list; an image without Entrypoint or Cmd has none.)
 *
 * If that leaves nothing at all to run, the container cannot be created:
 * throw `new RuntimeError('CreateContainerError', ...)` with a message that
 * names the image (`config.image`). The kubelet shows that reason in the
 * Pod's status.
 *
 * Both container runtimes of this book take your function (the option
 * `containerArgs` of SimRuntime and RuncRuntime), so under `npm run lab 5`
 * every container of the cluster runs the process you chose. The images'
 * configs are in images/<name>/recipe.json: busybox has Cmd ["sh"], the
 * backend has Entrypoint ["/bin/httpd", "-f", "-v", "-p", "8080", "-h", "/www"].
 *
 * Run `npm run grade 5` to check your work, `npm run hint 5.3` when stuck.
 */
import { RuntimeError, type ContainerConfig } from '#lib/runtime/cri.ts';
import { todo } from '#lib/workbook/todo.ts';

/** The argv a container runs: the Pod's command and args over the image's Entrypoint and Cmd. */
export function containerArgs(image: { Entrypoint?: string[]; Cmd?: string[] }, config: Pick<ContainerConfig, 'command' | 'args' | 'image'>): string[] {
  // TODO: choose the program part and the arguments part, join them, and refuse an empty result.
  void RuntimeError;
  return todo('5.3');
}
