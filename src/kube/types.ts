// Kubernetes object types as they arrive on the wire. client-node's models type timestamps
// as Date, but we read raw JSON (timestamps stay RFC 3339 strings, exactly as kubectl prints
// them), so Wire<T> maps every Date to string. Type-only imports cost nothing at startup.
import type * as k from '@kubernetes/client-node';

export type Wire<T> = T extends Date ? string : T extends (infer U)[] ? Wire<U>[] : T extends object ? { [K in keyof T]: Wire<T[K]> } : T;

export type Pod = Wire<k.V1Pod>;
export type Deployment = Wire<k.V1Deployment>;
export type ReplicaSet = Wire<k.V1ReplicaSet>;
export type StatefulSet = Wire<k.V1StatefulSet>;
export type Service = Wire<k.V1Service>;
export type ConfigMap = Wire<k.V1ConfigMap>;
export type Secret = Wire<k.V1Secret>;
export type Node = Wire<k.V1Node>;
export type PersistentVolumeClaim = Wire<k.V1PersistentVolumeClaim>;
export type PersistentVolume = Wire<k.V1PersistentVolume>;
export type StorageClass = Wire<k.V1StorageClass>;
export type PodTemplateSpec = Wire<k.V1PodTemplateSpec>;
export type Container = Wire<k.V1Container>;
export type KEvent = Wire<k.CoreV1Event>;
export type HPA = Wire<k.V2HorizontalPodAutoscaler>;
export type ObjectMeta = Wire<k.V1ObjectMeta>;

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

export interface ObjectList<T> {
  items: T[];
  resourceVersion: string;
  /** Requests made, one per page; lets tests see that lists are paginated. */
  pages: number;
}
