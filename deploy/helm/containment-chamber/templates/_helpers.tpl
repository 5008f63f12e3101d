{{- define "cc.labels" -}}
app.kubernetes.io/name: containment-chamber
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "cc.selector" -}}
app.kubernetes.io/name: containment-chamber
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
