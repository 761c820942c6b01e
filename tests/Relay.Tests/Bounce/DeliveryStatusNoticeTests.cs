using MailRelay.Relay.Bounce;
using MailRelay.Relay.Queue;
using MimeKit;

namespace MailRelay.Relay.Tests.Bounce;

public sealed class DeliveryStatusNoticeTests
{
    [Theory]
    [InlineData("mx[127.0.0.3]:25: 550 5.1.1 <x@y>: Recipient address rejected", "5.1.1")]
    [InlineData("550 no such user", "5.0.0")]
    [InlineData("ses:587: 554 Message rejected", "5.0.0")]
    [InlineData("rejected by route ops/blocked: blocked", "5.0.0")]
    [InlineData("expired after 5.00:00:00 in the queue; last error: 451 4.3.0 try later", "4.4.7")]
    [InlineData(null, "5.0.0")]
    public void The_status_is_the_replys_enhanced_code_else_one_by_its_class(string? detail, string expected) =>
        Assert.Equal(expected, DeliveryStatusNotice.StatusCode(detail));

    [Fact]
    public void Only_mail_with_a_sender_is_bounced() =>
        Assert.Equal((false, true), (DeliveryStatusNotice.IsWanted(string.Empty), DeliveryStatusNotice.IsWanted("a@b.test")));

    [Fact]
    public void RET_FULL_returns_the_whole_message_and_otherwise_only_its_headers()
    {
        var original = new MimeMessage { Subject = "original" };
        original.From.Add(MailboxAddress.Parse("a@b.test"));
        original.Body = new TextPart("plain") { Text = "the secret body" };
        var failed = new List<QueueRecipient> { new() { Address = "x@y.test", State = RecipientState.Failed, LastResult = "550 5.1.1 unknown" } };
        BounceRequest Request(bool full) => new("ID1", "a@b.test", DateTimeOffset.UnixEpoch, failed, full, "relay.test", DateTimeOffset.UnixEpoch);

        var headersOnly = Assert.IsType<MultipartReport>(DeliveryStatusNotice.Compose(Request(false), original).Body);
        var full = Assert.IsType<MultipartReport>(DeliveryStatusNotice.Compose(Request(true), original).Body);

        Assert.Equal("text/rfc822-headers", headersOnly[2].ContentType.MimeType);
        Assert.DoesNotContain("the secret body", headersOnly[2].ToString());
        Assert.Equal("message/rfc822", full[2].ContentType.MimeType);
        Assert.Contains("the secret body", full[2].ToString());
    }

    [Fact]
    public void A_delay_warning_says_delayed_with_a_temporary_status_and_returns_headers_only()
    {
        var original = new MimeMessage { Subject = "original" };
        original.From.Add(MailboxAddress.Parse("a@b.test"));
        original.Body = new TextPart("plain") { Text = "the secret body" };
        var pending = new List<QueueRecipient>
        {
            new() { Address = "x@y.test", State = RecipientState.Pending, LastResult = "450 4.2.0 greylisted" },
            new() { Address = "z@y.test", State = RecipientState.Pending, LastResult = "connection refused" },
        };
        var request = new BounceRequest("ID1", "a@b.test", DateTimeOffset.UnixEpoch, pending, ReturnFull: true, "relay.test", DateTimeOffset.UnixEpoch.AddHours(4))
        {
            Delayed = true,
            RetryUntil = DateTimeOffset.UnixEpoch.AddDays(5),
        };

        var notice = DeliveryStatusNotice.Compose(request, original);
        var report = Assert.IsType<MultipartReport>(notice.Body);
        var status = report[1].ToString();

        Assert.Equal("Delayed Mail (still being retried)", notice.Subject);
        Assert.Contains("Action: delayed", status);
        Assert.DoesNotContain("Action: failed", status);
        Assert.Contains("Status: 4.2.0", status);
        Assert.Contains("Status: 4.0.0", status); // no code in the reason: still temporary
        Assert.Contains("Will-Retry-Until: Tue, 06 Jan 1970", status);
        Assert.Equal("text/rfc822-headers", report[2].ContentType.MimeType); // RET=FULL is for failures
        Assert.Contains("still being retried", ((TextPart)report[0]).Text);
    }
}
