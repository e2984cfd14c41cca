/** The tags watchkeeper puts on its snapshots; check-backups and retention read the same keys. */

/** Marks a snapshot as made (and therefore prunable) by watchkeeper. */
export const MANAGED_BY_TAG = 'watchkeeper:managed-by';
/** Value of MANAGED_BY_TAG. */
export const MANAGED_BY_VALUE = 'watchkeeper';
/** The run (EventBridge event id) that made the snapshot: the set of one instance's snapshots. */
export const RUN_ID_TAG = 'watchkeeper:run-id';
/** Instance the volume was attached to. */
export const INSTANCE_TAG = 'watchkeeper:instance-id';
/** Every volume of the set and its device ("vol-0a=/dev/xvdf,vol-0b=/dev/xvdg"), for restores. */
export const DEVICES_TAG = 'watchkeeper:devices';
/** Device name of the snapshot's own volume, when the set's map does not fit in one tag. */
export const DEVICE_TAG = 'watchkeeper:device';
/** `application` (quiesced by the hook) or `crash`. */
export const CONSISTENCY_TAG = 'watchkeeper:consistency';
/** The freeze mode configured when the snapshot was made (`none`, `fsfreeze`, `mysql`, `commands`). */
export const FREEZE_MODE_TAG = 'watchkeeper:freeze-mode';
/** Source snapshot of a cross-region copy (copies get new ids and a bogus volume id). */
export const SOURCE_SNAPSHOT_TAG = 'watchkeeper:source-snapshot-id';
/** Source volume of a cross-region copy. */
export const SOURCE_VOLUME_TAG = 'watchkeeper:source-volume-id';
/** Any value: retention never deletes the snapshot. */
export const KEEP_TAG = 'watchkeeper:keep';

/** Consistency a snapshot achieved. */
export type Consistency = 'application' | 'crash';
