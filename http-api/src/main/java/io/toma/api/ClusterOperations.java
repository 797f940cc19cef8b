package io.toma.api;

import java.util.concurrent.CompletionStage;

/**
 * The port the HTTP API drives: every call a user can make on volumes, nodes and the cluster.
 * The topology manager implements it over its sharded entities; tests use an in-memory fake.
 *
 * <p>Every request handed in has already been validated completely (sizes, names, NQNs, layout), so
 * an implementation only answers what the cluster decides. No method completes exceptionally for
 * an expected outcome: those are {@link ApiResult} values.
 */
public interface ClusterOperations {

  /**
   * Creates a volume, idempotently by name: the same name with the same spec answers the existing
   * volume ({@code created = false}), the same name with another spec is {@link ApiResult.Conflict},
   * and a layout no placement can satisfy is {@link ApiResult.Conflict} with the placement's reason.
   */
  CompletionStage<ApiResult<CreatedVolume>> createVolume(CreateVolumeRequest request);

  CompletionStage<ApiResult<VolumeView>> getVolume(String volumeId);

  /** Volumes ordered by name, from {@code offset}, at most {@code limit} (1..1000). */
  CompletionStage<ApiResult<VolumePage>> listVolumes(int offset, int limit);

  /** Starts deleting; answers the volume in state {@code Deleting}. Deleting twice is not an error. */
  CompletionStage<ApiResult<VolumeView>> deleteVolume(String volumeId);

  /** Allows a host to connect; attaching an attached host again is not an error. */
  CompletionStage<ApiResult<VolumeView>> attach(String volumeId, AttachRequest request);

  /** Revokes a host; {@link ApiResult.NotFound} when the host is not attached. */
  CompletionStage<ApiResult<VolumeView>> detach(String volumeId, String hostNqn);

  /** Grows a volume; a smaller size is {@link ApiResult.Invalid} on field {@code size} with the reason. */
  CompletionStage<ApiResult<VolumeView>> resize(String volumeId, ResizeRequest request);

  CompletionStage<ApiResult<java.util.List<NodeView>>> listNodes();

  /** No new replicas or controllers are placed on a cordoned node; what it holds stays. */
  CompletionStage<ApiResult<NodeView>> cordon(String nodeId);

  CompletionStage<ApiResult<NodeView>> uncordon(String nodeId);

  /** Cordons the node and moves everything it holds elsewhere (repairs show in the events). */
  CompletionStage<ApiResult<NodeView>> drain(String nodeId);

  /** The dry-run shell plan: the commands the node's agent would run to reach its desired state. */
  CompletionStage<ApiResult<String>> nodePlan(String nodeId);

  CompletionStage<ApiResult<ClusterView>> cluster();
}
