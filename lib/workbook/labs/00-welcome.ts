/**
 * Lab 0: a tour. It tells the scenario, shows the manifests and the chapter
 * map, checks this machine with the doctor, and explains the workbook loop.
 * Nothing is built yet, so nothing here can fail on a fresh machine.
 */
import { detectEnvironment } from '../doctor.ts';
import type { Lab } from '../lab.ts';
import { loadManifest } from '../manifest.ts';
import { table } from '../output.ts';
import { applyChain, chapterPlan, nodes, scenarioManifests } from '../scenario.ts';

/** The welcome tour: scenario, manifests, map, your machine, the workbook loop. */
export const lab: Lab = {
  chapter: 0,
  title: 'Welcome to the cluster',
  intro: [
    'This tour sets the scene for the whole book: the cluster we will build, the',
    'applications it will run, the order in which the pieces arrive, and the',
    'commands you will use along the way. Nothing is started yet.',
  ].join('\n'),
  steps: [
    {
      title: 'Three spare laptops become a cluster',
      async run(ctx) {
        ctx.say('Three Linux laptops, named node-1, node-2 and node-3, join one cluster.');
        ctx.say('node-1 runs the control plane: it decides. node-2 and node-3 are workers: they run the containers.');
        ctx.show('nodes', table(['node', 'role', 'runs'], nodes.map((n) => [n.name, n.role, n.components.join(', ')])));
        ctx.note('the cloud controller manager is left out: it only matters when the cluster runs on a cloud provider.');
      },
    },
    {
      title: 'Two microservices and a Service',
      async run(ctx) {
        ctx.say('The frontend is a Node.js server on port 3000; it finds the backend through BACKEND_ENDPOINT=http://backend.');
        ctx.say('The backend answers JSON on port 8080. Each runs three replicas, and the backend sits behind a ClusterIP Service (port 80 -> 8080).');
        for (const { file, text } of scenarioManifests()) ctx.show(file, text.trimEnd());
        ctx.note('the manifests live in lib/workbook/scenario/; later chapters apply them to the cluster you build.');
      },
    },
    {
      title: 'What happens after kubectl apply',
      async run(ctx) {
        ctx.say('Every component talks only to the API server, and only the API server talks to etcd.');
        ctx.say('Nobody sends orders to anybody: each component watches the API server for the objects it cares about and acts on them.');
        ctx.show('the chain', applyChain.map((link, i) => `${i + 1}. ${link.text}  [chapter ${link.chapter}]`).join('\n'));
      },
    },
    {
      title: 'The chapter map',
      async run(ctx) {
        const ready = new Set(loadManifest().chapters.map((c) => c.number));
        ctx.say('Each chapter builds one component and ends with a cluster you can run.');
        ctx.show('chapters', table(['#', 'chapter', 'builds', 'lab'], chapterPlan.map((c) => [String(c.number), c.title, c.builds, ready.has(c.number) ? `npm run lab ${c.number}` : 'coming'])));
      },
    },
    {
      title: 'Your machine',
      async run(ctx) {
        const env = await detectEnvironment();
        ctx.say(`Node v${env.node.version} on ${env.os.distro ?? env.os.platform}${env.root ? ', running as root' : ''}.`);
        ctx.say(env.node.ok ? 'The embedded cluster (in-process, any OS) will run here.' : `Node ${env.node.required} or newer is needed: please upgrade Node.`);
        if (env.realMode.possible) {
          ctx.say('Real mode is possible here: add --real to a lab to run real containers with runc, CNI and iptables.');
        } else {
          ctx.say('Real mode is not possible here, because:');
          ctx.say(env.realMode.reasons.map((r) => `- ${r}`).join('\n'));
          ctx.note('that is fine: every lab runs without --real. `npm run doctor` tells how to get real mode.');
        }
      },
    },
    {
      title: 'How to use the workbook',
      async run(ctx) {
        ctx.show(
          'the loop',
          table(
            ['command', 'what it does'],
            [
              ['npm run read N', 'read chapter N in the terminal (npm run book renders them all to book/)'],
              ['npm run lab N', 'run the cluster as built up to chapter N, step by step, narrated'],
              ['npm run grade N', "check your exercises in labs/NN-topic/ against the chapter's checks"],
              ['npm run hint ID', 'the next hint for an exercise, e.g. npm run hint 1.1 (-- --all for every level)'],
              ['npm run reset ID|N|all', 'put the pristine stub back over your file and forget its progress'],
              ['npm run doctor', 'what this machine has for real mode, and how to install the rest'],
            ],
          ),
        );
        ctx.say('Add `-- --solutions` to a lab or a grade to use the worked answers in solutions/, and `-- --real` to a lab for real containers.');
        ctx.say('While an exercise is still a TODO stub, the labs use the reference implementation instead, and say so.');
      },
    },
  ],
};
