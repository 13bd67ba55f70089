{{/* Names, labels and shared pieces of the pg-pprl chart. */}}

{{/* The release's base name. */}}
{{- define "pprl.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{/* Labels of every object; pass (dict "ctx" $ "component" "api"). */}}
{{- define "pprl.labels" -}}
app.kubernetes.io/name: {{ .ctx.Chart.Name }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/component: {{ .component }}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version }}
{{- end -}}

{{/* Selector labels of one component. */}}
{{- define "pprl.selector" -}}
app.kubernetes.io/name: {{ .ctx.Chart.Name }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* An image of the release: pass (dict "ctx" $ "name" "api"). */}}
{{- define "pprl.image" -}}
{{- $v := .ctx.Values.image -}}
{{- printf "%s/%s/%s:%s" $v.registry $v.repository .name (default .ctx.Chart.AppVersion $v.tag) -}}
{{- end -}}

{{/* The Secret holding passwords and keys. */}}
{{- define "pprl.secretName" -}}
{{- default (printf "%s-secrets" (include "pprl.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* Service names. */}}
{{- define "pprl.primaryHost" -}}{{ include "pprl.fullname" . }}-primary{{- end -}}
{{- define "pprl.redisHost" -}}{{ include "pprl.fullname" . }}-redis{{- end -}}
{{- define "pprl.s3Host" -}}{{ include "pprl.fullname" . }}-s3{{- end -}}

{{/* The Redis URL (provisioned or external). */}}
{{- define "pprl.redisUrl" -}}
{{- if .Values.redis.provisioned -}}redis://{{ include "pprl.redisHost" . }}:6379/0
{{- else -}}{{ required "redis.external.url is required when redis.provisioned is false" .Values.redis.external.url }}
{{- end -}}
{{- end -}}

{{/* The S3 endpoint (provisioned or external). */}}
{{- define "pprl.s3Endpoint" -}}
{{- if .Values.objectStore.provisioned.enabled -}}http://{{ include "pprl.s3Host" . }}:9000
{{- else -}}{{ .Values.objectStore.s3.endpoint }}
{{- end -}}
{{- end -}}

{{/* The object store's settings, as the API and the workers read them. */}}
{{- define "pprl.storeEnv" -}}
- name: OBJECT_STORE_URL
  value: {{ printf "s3://%s%s" (required "objectStore.s3.bucket is required (the bucket must exist)" .Values.objectStore.s3.bucket) (ternary "" (printf "/%s" .Values.objectStore.s3.prefix) (empty .Values.objectStore.s3.prefix)) | quote }}
- name: S3_ENDPOINT
  value: {{ include "pprl.s3Endpoint" . | quote }}
- name: S3_REGION
  value: {{ .Values.objectStore.s3.region | quote }}
- name: S3_ADDRESSING
  value: {{ ternary "path" .Values.objectStore.s3.addressing .Values.objectStore.provisioned.enabled | quote }}
- name: S3_ACCESS_KEY_ID_FILE
  value: /run/secrets/pprl/s3-access-key-id
- name: S3_SECRET_ACCESS_KEY_FILE
  value: /run/secrets/pprl/s3-secret-access-key
{{- with .Values.objectStore.s3.stsRoleArn }}
- name: S3_STS_ROLE_ARN
  value: {{ . | quote }}
{{- end }}
{{- with .Values.objectStore.s3.publicEndpoint }}
- name: S3_PUBLIC_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* The database URL of the primary (password from the mounted Secret). */}}
{{- define "pprl.primaryConninfo" -}}
host={{ include "pprl.primaryHost" . }} port=5432 user=postgres dbname=postgres
{{- end -}}

{{/* Database, Redis and object store settings shared by API and workers. */}}
{{- define "pprl.commonEnv" -}}
- name: PGPASSWORD_FILE
  value: /run/secrets/pprl/postgres-password
- name: REDIS_URL
  value: {{ include "pprl.redisUrl" . | quote }}
{{ include "pprl.storeEnv" . }}
{{- end -}}

{{/* The Secret, mounted read-only at /run/secrets/pprl. */}}
{{- define "pprl.secretVolume" -}}
- name: secrets
  secret:
    secretName: {{ include "pprl.secretName" . }}
    defaultMode: 0400
{{- end -}}

{{/* Container security context: non-root, nothing extra. */}}
{{- define "pprl.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* Checksums of the configuration, so a change rolls the pods. */}}
{{- define "pprl.checksums" -}}
checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- if not .Values.secrets.existingSecret }}
checksum/secret: {{ include (print $.Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- end -}}
