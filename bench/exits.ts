// npm run bench, part 5: how fast decision mechanisms replay. One sweep of 100 thresholds over all
// seven mechanisms (feature difference on 16 recorded features) on 10,000 synthetic frames (4 exits, 10
// classes), against the one-second target the issue sets for six.
import { prepareReplay } from '../src/engine/exits/replay';
import { sweep } from '../src/engine/exits/sweep';
import { syntheticReplay } from '../src/engine/exits/testing';
import { median } from './timing';

const data = syntheticReplay(10_000, 7, 10, 16);
const prepared = prepareReplay(data);
const prepare = await median(5, async () => prepareReplay(data));
let replays = 0;
const ms = await median(5, async () => {
  replays = Object.values(sweep(prepared, { steps: 100 })).reduce((s, c) => s + c.length, 0);
});
console.log(
  JSON.stringify(
    {
      exits_sweep: {
        frames: 10_000,
        exits: data.exits.length,
        classes: data.classes,
        replays,
        prepare_ms: prepare,
        sweep_ms: ms,
        target: { value: ms, target: '100 thresholds × 6 mechanisms (here 7) over 10,000 frames in under a second', met: ms < 1000 },
      },
    },
    null,
    2,
  ),
);
