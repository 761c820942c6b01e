using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using MailRelay.Relay.Queue;
using MimeKit;

namespace MailRelay.Relay.Bounce;

/// <summary>What a bounce is about: the failed message and its recipients that failed for good.</summary>
/// <param name="QueueId">The failed message's queue id.</param>
/// <param name="Sender">Its envelope sender, to whom the notice goes (never the null sender).</param>
/// <param name="ReceivedAt">When it was accepted.</param>
/// <param name="Failed">The recipients that failed permanently, with their last result.</param>
/// <param name="ReturnFull">RET=FULL: return the whole message, else its headers only.</param>
/// <param name="ReportingHost">This relay's name (Reporting-MTA).</param>
/// <param name="Now">When the notice is made.</param>
public sealed record BounceRequest(
    string QueueId,
    string Sender,
    DateTimeOffset ReceivedAt,
    IReadOnlyList<QueueRecipient> Failed,
    bool ReturnFull,
    string ReportingHost,
    DateTimeOffset Now)
{
    /// <summary>
    /// A delay warning rather than a failure: the recipients in <see cref="Failed"/> are still being
    /// retried (Action: delayed, a 4.x.x status, headers returned only), until <see cref="RetryUntil"/>.
    /// </summary>
    public bool Delayed { get; init; }

    /// <summary>When the relay gives up on a delayed message (Will-Retry-Until).</summary>
    public DateTimeOffset? RetryUntil { get; init; }
}

/// <summary>
/// The pure bounce step (Postfix's bounce daemon): an RFC 3464 delivery status notification for
/// the recipients of a message that failed permanently, addressed to its sender and sent from the
/// null sender, so that it can itself never be bounced. The original is returned as headers
/// (text/rfc822-headers) unless the client asked for RET=FULL (message/rfc822).
/// </summary>
public static partial class DeliveryStatusNotice
{
    /// <summary>True when a bounce is to be sent for a message from <paramref name="sender"/>: never for the null sender.</summary>
    public static bool IsWanted(string sender) => sender.Length > 0;

    /// <summary>Composes the notice; <paramref name="original"/> is the failed message as spooled.</summary>
    public static MimeMessage Compose(BounceRequest request, MimeMessage original)
    {
        var notice = new MimeMessage();
        notice.From.Add(new MailboxAddress("Mail Delivery System", "MAILER-DAEMON@" + request.ReportingHost));
        notice.To.Add(new MailboxAddress(string.Empty, request.Sender));
        notice.Subject = request.Delayed ? "Delayed Mail (still being retried)" : "Undelivered Mail Returned to Sender";
        notice.Date = request.Now;
        notice.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId(request.ReportingHost);
        notice.Headers.Add("Auto-Submitted", "auto-replied"); // RFC 3834: no auto-replies to this
        if (original.MessageId is { } originalId)
        {
            notice.InReplyTo = originalId;
        }

        var report = new MultipartReport("delivery-status")
        {
            new TextPart("plain") { Text = HumanText(request), ContentTransferEncoding = ContentEncoding.QuotedPrintable },
            Status(request),
        };
        report.Add(request.ReturnFull && !request.Delayed ? new MessagePart("rfc822") { Message = original } : Headers(original));
        notice.Body = report;
        return notice;
    }

    /// <summary>The RFC 3463 status of a failure: the enhanced code in the reply if there is one, else one by the basic code (5.0.0, or 4.4.7 for expiry).</summary>
    public static string StatusCode(string? detail)
    {
        if (detail is null)
        {
            return "5.0.0";
        }

        if (detail.StartsWith("expired after", StringComparison.Ordinal))
        {
            return "4.4.7";
        }

        var enhanced = EnhancedCode().Match(detail);
        if (enhanced.Success)
        {
            return enhanced.Groups[1].Value;
        }

        var basic = ReplyCode().Match(detail);
        return basic.Success ? basic.Groups[1].Value[0] + ".0.0" : "5.0.0";
    }

    // A delayed recipient's status is temporary whatever its last result says.
    private static string DelayedStatus(string? detail) => StatusCode(detail) is ['4', ..] code ? code : "4.0.0";

    private static string HumanText(BounceRequest request)
    {
        var text = new StringBuilder()
            .Append("This is the mail relay at ").Append(request.ReportingHost).AppendLine(".")
            .AppendLine();
        if (request.Delayed)
        {
            text.AppendLine("Your message could not be delivered yet to the recipients below. This is a")
                .Append("warning only: it is still being retried, until ").Append(request.RetryUntil?.ToString("u", CultureInfo.InvariantCulture) ?? "the queue lifetime ends").AppendLine(",")
                .AppendLine("and you need not send it again. The last reason follows each recipient.");
        }
        else
        {
            text.AppendLine("Your message could not be delivered to the recipients below; it will not be")
                .AppendLine("tried again. The reason follows each recipient.");
        }

        text.AppendLine();
        foreach (var r in request.Failed)
        {
            text.Append('<').Append(r.Address).Append(">: ").AppendLine(r.LastResult ?? "delivery failed");
        }

        return text.ToString();
    }

    private static MessageDeliveryStatus Status(BounceRequest request)
    {
        var status = new MessageDeliveryStatus();
        var perMessage = new HeaderList
        {
            { "Reporting-MTA", "dns; " + request.ReportingHost },
            { "X-MailRelay-Queue-ID", request.QueueId },
            { "Arrival-Date", MimeKit.Utils.DateUtils.FormatDate(request.ReceivedAt) },
        };
        status.StatusGroups.Add(perMessage);
        foreach (var r in request.Failed)
        {
            var group = new HeaderList
            {
                { "Final-Recipient", "rfc822; " + r.Address },
                { "Action", request.Delayed ? "delayed" : "failed" },
                { "Status", request.Delayed ? DelayedStatus(r.LastResult) : StatusCode(r.LastResult) },
            };
            if (r.LastResult is { } detail && DiagnosticReply().Match(detail) is { Success: true } reply)
            {
                group.Add("Diagnostic-Code", "smtp; " + reply.Value.Trim());
            }
            else if (r.LastResult is { } other)
            {
                group.Add("Diagnostic-Code", "X-MailRelay; " + other);
            }

            group.Add("Last-Attempt-Date", MimeKit.Utils.DateUtils.FormatDate(request.Now));
            if (request.Delayed && request.RetryUntil is { } until)
            {
                group.Add("Will-Retry-Until", MimeKit.Utils.DateUtils.FormatDate(until));
            }
            status.StatusGroups.Add(group);
        }

        return status;
    }

    private static TextRfc822Headers Headers(MimeMessage original)
    {
        using var buffer = new MemoryStream();
        original.Headers.WriteTo(FormatOptions.Default, buffer);
        buffer.Write("\r\n"u8);
        buffer.Position = 0;
        return new TextRfc822Headers { Message = MimeMessage.Load(buffer) };
    }

    [GeneratedRegex(@"\b([245]\.\d{1,3}\.\d{1,3})\b")]
    private static partial Regex EnhancedCode();

    [GeneratedRegex(@"\b([245]\d\d)\b")]
    private static partial Regex ReplyCode();

    // "host[addr]:port: 550 5.1.1 <x>: user unknown" -> "550 5.1.1 <x>: user unknown"
    [GeneratedRegex(@"\b[245]\d\d[ -].*$")]
    private static partial Regex DiagnosticReply();
}
