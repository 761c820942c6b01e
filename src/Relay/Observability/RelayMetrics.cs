using Prometheus;

namespace MailRelay.Relay.Observability;

/// <summary>The relay's Prometheus metrics (served on <c>--metrics</c> at <c>/metrics</c>).</summary>
public static class RelayMetrics
{
    /// <summary>Messages accepted into the queue (their routes are decided at each attempt).</summary>
    public static readonly Counter Accepted = Metrics.CreateCounter(
        "mailrelay_accepted_total", "Messages accepted into the queue (250 given).");

    /// <summary>Recipients refused at RCPT.</summary>
    public static readonly Counter Refused = Metrics.CreateCounter(
        "mailrelay_refused_recipients_total", "Recipients refused at RCPT.", "reason");

    /// <summary>Deliveries that succeeded.</summary>
    public static readonly Counter Delivered = Metrics.CreateCounter(
        "mailrelay_delivered_total", "Deliveries that the next hop accepted (2xx).", "route");

    /// <summary>Deliveries that failed temporarily and will be retried.</summary>
    public static readonly Counter Deferred = Metrics.CreateCounter(
        "mailrelay_deferred_total", "Deliveries that failed temporarily and were deferred.", "route");

    /// <summary>Deliveries that failed permanently.</summary>
    public static readonly Counter Failed = Metrics.CreateCounter(
        "mailrelay_failed_total", "Deliveries that failed permanently (5xx, expiry, reject).", "route");

    /// <summary>Delivery status notices queued for senders.</summary>
    public static readonly Counter Bounces = Metrics.CreateCounter(
        "mailrelay_bounces_total", "Delivery status notices (bounces) queued to the senders of failed mail.");

    /// <summary>Delay warnings queued (--delay-warning).</summary>
    public static readonly Counter DelayWarnings = Metrics.CreateCounter(
        "mailrelay_delay_warnings_total", "Delay warnings (delivery status notices, Action: delayed) queued to the senders of mail still pending.");

    /// <summary>Failed client SMTP AUTH attempts.</summary>
    public static readonly Counter AuthFailures = Metrics.CreateCounter(
        "mailrelay_auth_failures_total", "Failed client SMTP AUTH attempts (each is logged with the client and user).");

    /// <summary>Messages set aside because they could not be processed at all.</summary>
    public static readonly Counter Quarantined = Metrics.CreateCounter(
        "mailrelay_quarantined_total", "Messages moved to the spool's quarantine/ because they could not be processed.");

    /// <summary>Queued messages a hold route keeps (fail closed), per route; the queue's held index is the state, this reports it.</summary>
    public static readonly Gauge HeldMessages = Metrics.CreateGauge(
        "mailrelay_held_messages", "Queued messages held by a hold route (credential missing), per route; delivered at once when the route is released.", "route");

    /// <summary>Messages in the queue.</summary>
    public static readonly Gauge QueueDepth = Metrics.CreateGauge(
        "mailrelay_queue_depth", "Messages in the queue (accepted, not yet done).");

    /// <summary>Time from acceptance to successful delivery.</summary>
    public static readonly Histogram DeliveryLatency = Metrics.CreateHistogram(
        "mailrelay_delivery_latency_seconds", "Time from acceptance to delivery.",
        new HistogramConfiguration
        {
            LabelNames = ["route"],
            Buckets = Histogram.ExponentialBuckets(0.01, 2, 20),
        });

    /// <summary>Configuration loads.</summary>
    public static readonly Counter ConfigReloads = Metrics.CreateCounter(
        "mailrelay_config_reloads_total", "Routing table and credential loads, by result.", "result");

    /// <summary>1 while the last attempted load failed (the last good config stays in force).</summary>
    public static readonly Gauge ConfigLastReloadFailed = Metrics.CreateGauge(
        "mailrelay_config_last_reload_failed", "1 when the newest routes/credentials could not be loaded.");

    /// <summary>Routes in the table in force.</summary>
    public static readonly Gauge Routes = Metrics.CreateGauge(
        "mailrelay_routes", "Routes in the routing table in force.");
}
