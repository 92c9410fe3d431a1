import { checkAssets } from './check.js';
import { registerBuiltInAssetKind } from './kind.js';
import { modelAssets } from './model.js';
import { probeAssets } from './probe.js';
import { publishAssets } from './publish.js';
import { sourceAssets } from './source.js';
import { streamAssets } from './stream.js';
import { syncAssets } from './sync.js';

export {
  assetKindOf,
  assetKinds,
  registerAssetKind,
  unregisterAssetKind,
  type AssetDeclaration,
  type AssetKindHandler,
  type DeclareContext,
  type TaskContext,
  type TaskSummary,
} from './kind.js';

// The built-in kinds, in declaration order (checks after models: a model's table has no check asset). A new kind is
// a file here and one line.
registerBuiltInAssetKind(probeAssets);
registerBuiltInAssetKind(sourceAssets);
registerBuiltInAssetKind(streamAssets);
registerBuiltInAssetKind(modelAssets);
registerBuiltInAssetKind(checkAssets);
registerBuiltInAssetKind(syncAssets);
registerBuiltInAssetKind(publishAssets);
