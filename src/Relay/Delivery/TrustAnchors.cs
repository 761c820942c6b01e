using System.Security.Cryptography.X509Certificates;

namespace MailRelay.Relay.Delivery;

/// <summary>Extra CA certificates (<c>--trust-ca</c>) trusted for <c>tls: Verify</c> besides the system's.</summary>
public sealed class TrustAnchors(X509Certificate2Collection certificates)
{
    /// <summary>No extra anchors.</summary>
    public static TrustAnchors None { get; } = new([]);

    /// <summary>The extra anchors.</summary>
    public X509Certificate2Collection Certificates { get; } = certificates;

    /// <summary>Loads every certificate of a PEM file.</summary>
    public static TrustAnchors Load(string? pemFile)
    {
        if (pemFile is null)
        {
            return None;
        }

        var collection = new X509Certificate2Collection();
        collection.ImportFromPemFile(pemFile);
        return new TrustAnchors(collection);
    }
}
