/**
 * The container runtime as the kubelet sees it: an interface shaped like the
 * Container Runtime Interface (CRI), the gRPC API through which the real
 * kubelet drives containerd or CRI-O. A Pod becomes a *sandbox* (its shared
 * network namespace and IP) holding *containers* (processes from an image).
 * The kubelet never runs a process itself; it asks the runtime, and reads
 * back what the runtime reports. Two implementations serve it: `sim`
 * (in-process, deterministic, any OS) and `runc` (Linux, root, real
 * containers).
 */

/** What the kubelet asks for when it runs a Pod's sandbox (CRI PodSandboxConfig). */
export interface PodSandboxConfig {
  /** The Pod's identity: the runtime labels everything it makes with it, so a restarted kubelet can find it again. */
  metadata: { name: string; namespace: string; uid: string; attempt: number };
  hostname: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Cluster DNS for the sandbox's resolv.conf (chapter 7). */
  dns?: { servers: string[]; searches: string[]; options: string[] };
}

/** CRI's PodSandboxState. */
export type SandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

/** What the runtime knows about a sandbox (CRI PodSandboxStatus). */
export interface PodSandboxStatus {
  id: string;
  metadata: PodSandboxConfig['metadata'];
  state: SandboxState;
  /** Unix ms. */
  createdAt: number;
  /** The Pod's IP, from the network plugin. */
  ip?: string;
  labels: Record<string, string>;
}

/** What the kubelet asks for when it creates a container (CRI ContainerConfig). */
export interface ContainerConfig {
  metadata: { name: string; attempt: number };
  image: string;
  command: string[];
  args: string[];
  workingDir?: string;
  env: Array<{ key: string; value: string }>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Where the runtime writes this container's log (CRI log path, relative to the sandbox's log directory). */
  logPath: string;
  /** The memory limit in bytes, for the container's cgroup (0: none). */
  memoryLimitBytes: number;
  /** CPU limit in millicores (0: none). */
  milliCPULimit: number;
}

/** CRI's ContainerState. */
export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

/** What the runtime knows about a container (CRI ContainerStatus). */
export interface ContainerStatus {
  id: string;
  sandboxId: string;
  metadata: ContainerConfig['metadata'];
  state: ContainerState;
  image: string;
  /** Unix ms; 0 when not reached. */
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  /** Why it ended, e.g. "Completed", "Error", "OOMKilled". */
  reason: string;
  message: string;
  labels: Record<string, string>;
  logPath: string;
}

/** What the runtime says about itself (CRI VersionResponse + Status). */
export interface RuntimeVersion {
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

/** An image present on the node (CRI Image). */
export interface ImageInfo {
  /** e.g. "backend:v0.0.1". */
  ref: string;
  /** The manifest digest, "sha256:...". */
  id: string;
  size: number;
}

/** A runtime refusal the kubelet turns into a Pod status reason (ErrImagePull, ...). */
export class RuntimeError extends Error {
  constructor(
    /** CRI-style reason the kubelet reports, e.g. "ErrImagePull", "CreateContainerError", "RunContainerError". */
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'RuntimeError';
  }
}

// #region runtime-service
/** The CRI RuntimeService and ImageService, as the kubelet uses them. */
export interface ContainerRuntime {
  version(): Promise<RuntimeVersion>;

  // Sandboxes: one per Pod, holding its network namespace and IP.
  runPodSandbox(config: PodSandboxConfig): Promise<string>;
  /** Stops every container in it and tears its network down; idempotent. */
  stopPodSandbox(sandboxId: string): Promise<void>;
  /** Removes what is left of a stopped sandbox; idempotent. */
  removePodSandbox(sandboxId: string): Promise<void>;
  podSandboxStatus(sandboxId: string): Promise<PodSandboxStatus>;
  listPodSandboxes(filter?: { labels?: Record<string, string> }): Promise<PodSandboxStatus[]>;

  // Containers, inside a sandbox.
  createContainer(sandboxId: string, config: ContainerConfig, sandbox: PodSandboxConfig): Promise<string>;
  startContainer(containerId: string): Promise<void>;
  /** Sends SIGTERM, then SIGKILL after `timeoutSeconds`; idempotent. */
  stopContainer(containerId: string, timeoutSeconds: number): Promise<void>;
  removeContainer(containerId: string): Promise<void>;
  containerStatus(containerId: string): Promise<ContainerStatus>;
  listContainers(filter?: { sandboxId?: string; labels?: Record<string, string> }): Promise<ContainerStatus[]>;
  /** The container's log so far (stdout and stderr interleaved), as plain lines, the way `kubectl logs` shows it. */
  readLog(containerId: string): Promise<string>;
  /** Runs a command in a running container (exec probes); resolves to its exit code and output. */
  exec(containerId: string, command: string[], timeoutSeconds: number): Promise<{ exitCode: number; output: string }>;

  // Images.
  /** Makes an image present; throws RuntimeError('ErrImagePull') naming the image when it cannot. */
  pullImage(ref: string): Promise<ImageInfo>;
  listImages(): Promise<ImageInfo[]>;
}
// #endregion runtime-service
