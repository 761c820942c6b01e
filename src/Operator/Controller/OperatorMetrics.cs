using Prometheus;

namespace MailRelay.Operator.Controller;

/// <summary>The operator's Prometheus metrics.</summary>
public static class OperatorMetrics
{
    public static readonly Counter Reconciles = Metrics.CreateCounter("mailrelay_operator_reconciles_total", "Reconciles, by result.", "result");

    public static readonly Histogram ReconcileDuration = Metrics.CreateHistogram("mailrelay_operator_reconcile_duration_seconds", "Time one reconcile took.");

    public static readonly Counter ApiCalls = Metrics.CreateCounter("mailrelay_operator_api_calls_total", "Calls to the Kubernetes API, by verb.", "verb");

    /// <summary>Write calls to the Kubernetes API made by the controller (not leader election).</summary>
    public static readonly Counter Writes = Metrics.CreateCounter("mailrelay_operator_writes_total", "Writes the controller made, by kind of object.", "kind");

    /// <summary>1 when the last reconcile wrote (or found current) the routing table, 0 when it could not (TableNotWritten).</summary>
    public static readonly Gauge TableWritten = Metrics.CreateGauge("mailrelay_operator_routing_table_written", "1 when the routing table's ConfigMaps hold the current table, 0 when it cannot be written (the relay keeps the last good one).");

    public static readonly Gauge Leader = Metrics.CreateGauge("mailrelay_operator_leader", "1 while this instance is the leader.");

    public static readonly Gauge Resources = Metrics.CreateGauge("mailrelay_operator_resources", "MailRoutes and RelayCredentials by kind and condition status.", "kind", "ok");
}

/// <summary>Counts every API call by verb (a handler of the Kubernetes client).</summary>
public sealed class ApiCallCounter : DelegatingHandler
{
    /// <inheritdoc />
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        OperatorMetrics.ApiCalls.WithLabels(request.Method.Method).Inc();
        return base.SendAsync(request, cancellationToken);
    }
}
