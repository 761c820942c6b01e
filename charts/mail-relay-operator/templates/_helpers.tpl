{{/* The base name of every object: mail-relay for a release named mail-relay. */}}
{{- define "mailrelay.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else if contains "mail-relay" .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-mail-relay" .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "mailrelay.operatorName" -}}{{ include "mailrelay.fullname" . }}-operator{{- end -}}
{{- define "mailrelay.relayName" -}}{{ include "mailrelay.fullname" . }}{{- end -}}
{{- define "mailrelay.routesName" -}}{{ include "mailrelay.fullname" . }}-routes{{- end -}}
{{- define "mailrelay.credentialsName" -}}{{ include "mailrelay.fullname" . }}-credentials{{- end -}}

{{/* The sending identities' client table, the relay's TLS certificate and the operator's CA (Secrets the operator writes). */}}
{{- define "mailrelay.clientsName" -}}{{ include "mailrelay.fullname" . }}-clients{{- end -}}
{{- define "mailrelay.tlsName" -}}{{ include "mailrelay.fullname" . }}-tls{{- end -}}
{{- define "mailrelay.caName" -}}{{ include "mailrelay.fullname" . }}-ca{{- end -}}

{{/* Labels of every object; beside a selector's labels use commonLabels (the selector names the instance). */}}
{{- define "mailrelay.labels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
{{ include "mailrelay.commonLabels" . }}
{{- end -}}

{{- define "mailrelay.commonLabels" -}}
app.kubernetes.io/part-of: mail-relay
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "mailrelay.operatorSelector" -}}
app.kubernetes.io/name: mailrelay-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "mailrelay.relaySelector" -}}
app.kubernetes.io/name: mail-relay
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "mailrelay.image" -}}
{{ .image.repository }}:{{ .image.tag | default .chart.AppVersion }}
{{- end -}}

{{/* The restricted Pod Security Standard, for pods and containers. */}}
{{- define "mailrelay.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile: {type: RuntimeDefault}
{{- end -}}

{{- define "mailrelay.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities: {drop: [ALL]}
seccompProfile: {type: RuntimeDefault}
{{- end -}}

{{/* policy/v1 PodDisruptionBudget from 1.21 (its group version served), policy/v1beta1 before. */}}
{{- define "mailrelay.pdbApiVersion" -}}
{{- if and (.Capabilities.APIVersions.Has "policy/v1") (semverCompare ">=1.21-0" .Capabilities.KubeVersion.Version) -}}policy/v1{{- else -}}policy/v1beta1{{- end -}}
{{- end -}}
