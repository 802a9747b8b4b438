/**
 * bench:gpu's Node probe, run in a child process (a driver crash must not take the runner with it):
 * prints the high-performance adapter Dawn (npm webgpu) finds with the Vulkan drivers of this
 * environment, as one JSON line `{ adapter, fallback }` or `{ error }`.
 */
import { getGPU, summarizeAdapter } from '../../src/gpu/device.js';

try {
  const gpu = await getGPU();
  const a = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  const fallback = (a?.info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter === true;
  console.log(
    JSON.stringify(a ? { adapter: summarizeAdapter(a), fallback } : { error: 'requestAdapter returned null' }),
  );
  process.exit(0);
} catch (e) {
  console.log(JSON.stringify({ error: `${(e as Error).name}: ${(e as Error).message}` }));
  process.exit(0);
}
