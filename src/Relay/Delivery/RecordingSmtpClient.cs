using MailKit.Net.Smtp;
using MimeKit;

namespace MailRelay.Relay.Delivery;

/// <summary>
/// MailKit's client, recording each refused recipient instead of aborting the whole send on the
/// first one, so one bad recipient does not hold up the others; and declaring the spooled size in
/// <c>MAIL FROM SIZE=</c> instead of serialising the whole message once more to measure it.
/// </summary>
public sealed class RecordingSmtpClient : SmtpClient
{
    private readonly Dictionary<string, SmtpResponse> _refused = new(StringComparer.OrdinalIgnoreCase);
    private long? _unchangedSize;

    /// <summary>Recipients the server refused during the last send, with its reply.</summary>
    public IReadOnlyDictionary<string, SmtpResponse> Refused => _refused;

    /// <summary>
    /// The length of the spooled message about to be sent (null: unknown). MimeKit writes a parsed
    /// message byte for byte, so this is its size on the wire unless preparing it for the next hop
    /// re-encodes a part (no 8BITMIME, an over-long line): then MailKit measures as before.
    /// </summary>
    public long? SpooledSize { get; set; }

    /// <summary>Forget the last send's refusals.</summary>
    public void ResetRecorded() => _refused.Clear();

    /// <inheritdoc />
    protected override void OnRecipientNotAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response) =>
        _refused[mailbox.Address] = response;

    /// <inheritdoc />
    protected override void Prepare(FormatOptions options, MimeMessage message, EncodingConstraint constraint, int maxLineLength)
    {
        var before = TransferEncodings(message);
        base.Prepare(options, message, constraint, maxLineLength);
        if (!before.SequenceEqual(TransferEncodings(message)))
        {
            SpooledSize = null; // changed for good: further transactions of this message measure it too
        }

        _unchangedSize = SpooledSize;
    }

    /// <inheritdoc />
    protected override long GetSize(FormatOptions options, MimeMessage message, CancellationToken cancellationToken) =>
        _unchangedSize ?? base.GetSize(options, message, cancellationToken);

    /// <inheritdoc />
    protected override Task<long> GetSizeAsync(FormatOptions options, MimeMessage message, CancellationToken cancellationToken) =>
        _unchangedSize is { } size ? Task.FromResult(size) : base.GetSizeAsync(options, message, cancellationToken);

    // What MimeKit's Prepare may change: a part's Content-Transfer-Encoding (in nested messages too).
    private static List<ContentEncoding> TransferEncodings(MimeMessage message)
    {
        var encodings = new List<ContentEncoding>();
        using var parts = new MimeIterator(message);
        while (parts.MoveNext())
        {
            if (parts.Current is MimePart part)
            {
                encodings.Add(part.ContentTransferEncoding);
            }
        }

        return encodings;
    }
}
