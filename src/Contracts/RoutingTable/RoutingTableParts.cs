using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace MailRelay.Contracts.RoutingTable;

/// <summary>
/// A routing table too large for one ConfigMap (1 MiB), split (docs/routing-table.md, "Split tables"):
/// <c>routes.yaml</c> then holds a manifest (kind <see cref="ManifestKind"/>) naming the parts in order
/// with the SHA-256 of each and of the whole table; the parts are the gzip of the table cut into pieces
/// of at most <see cref="PartLimit"/> bytes, each in a ConfigMap of its own, all mounted with
/// <c>routes.yaml</c> in one projected volume. A table that fits (≤ <see cref="InlineLimit"/> bytes) is
/// written whole, exactly as before. Pure: the same table gives byte-identical output.
/// </summary>
public static partial class RoutingTableParts
{
    /// <summary>The manifest's kind.</summary>
    public const string ManifestKind = "RoutingTableParts";

    /// <summary>The largest table written whole into <c>routes.yaml</c> (a ConfigMap holds at most 1,048,576 bytes of keys and values).</summary>
    public const int InlineLimit = 1_000_000;

    /// <summary>The largest part, in bytes of gzip (stored as binaryData: the limit counts raw bytes).</summary>
    public const int PartLimit = 900_000;

    private const string Header =
        "# Routing table of the mail relay, written by the MailRelayOperator. Do not edit by hand.\n" +
        "# Too large for one ConfigMap: the gzip of the table, cut into the parts below (in this order), each in a\n" +
        "# ConfigMap of its own and mounted next to this file; the relay joins them and checks every sha256.\n";

    private static readonly IDeserializer Deserializer = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .Build();

    /// <summary>The file name (ConfigMap key) of part <paramref name="index"/> (1-based).</summary>
    public static string FileName(int index) => $"routes-{index.ToString(CultureInfo.InvariantCulture)}.gz";

    /// <summary>The ConfigMap holding part <paramref name="index"/> (1-based) of the table in <paramref name="configMapName"/>.</summary>
    public static string PartConfigMapName(string configMapName, int index) => $"{configMapName}-{index.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// What to write for <paramref name="routesYaml"/>: the table itself when it fits in
    /// <paramref name="inlineLimit"/> bytes, otherwise a manifest and parts of at most <paramref name="partLimit"/> bytes.
    /// </summary>
    public static RoutingTableLayout Split(string routesYaml, string configMapName, int inlineLimit = InlineLimit, int partLimit = PartLimit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partLimit, 1);
        var text = Encoding.UTF8.GetBytes(routesYaml);
        if (text.Length <= inlineLimit)
        {
            return new RoutingTableLayout(routesYaml, []);
        }

        var compressed = Gzip(text);
        var parts = new List<RoutingTablePart>();
        for (var offset = 0; offset < compressed.Length; offset += partLimit)
        {
            var index = parts.Count + 1;
            parts.Add(new RoutingTablePart(PartConfigMapName(configMapName, index), FileName(index), compressed.AsSpan(offset, Math.Min(partLimit, compressed.Length - offset)).ToArray()));
        }

        var manifest = new StringBuilder(Header)
            .Append("apiVersion: ").Append(RoutingTableDocument.CurrentApiVersion).Append('\n')
            .Append("kind: ").Append(ManifestKind).Append('\n')
            .Append("encoding: gzip\n")
            .Append("bytes: ").Append(text.Length.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append("sha256: ").Append(Sha256(text)).Append('\n')
            .Append("parts:\n");
        foreach (var part in parts)
        {
            manifest.Append("  - file: ").Append(part.File).Append('\n')
                .Append("    configMap: ").Append(part.ConfigMap).Append('\n')
                .Append("    bytes: ").Append(part.Bytes.Length.ToString(CultureInfo.InvariantCulture)).Append('\n')
                .Append("    sha256: ").Append(part.Sha256).Append('\n');
        }

        return new RoutingTableLayout(manifest.ToString(), parts);
    }

    /// <summary>True when <paramref name="routesYaml"/> is a manifest rather than a table.</summary>
    public static bool IsManifest(string routesYaml) => ManifestLine().IsMatch(routesYaml);

    /// <summary>
    /// The whole table a manifest names, its parts read by <paramref name="readFile"/> (a file name, as in
    /// the manifest, to its bytes). Throws <see cref="RoutingTablePartsException"/> when a part is missing or
    /// any size or SHA-256 disagrees with the manifest: e.g. a volume caught between two versions.
    /// </summary>
    public static string Join(string manifestText, Func<string, byte[]> readFile)
    {
        var manifest = ParseManifest(manifestText);
        using var joined = new MemoryStream();
        foreach (var part in manifest.Parts)
        {
            byte[] bytes;
            try
            {
                bytes = readFile(part.File!);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new RoutingTablePartsException($"part {part.File} cannot be read: {e.GetType().Name}: {e.Message}");
            }

            if (bytes.Length != part.Bytes || Sha256(bytes) != part.Sha256)
            {
                throw new RoutingTablePartsException($"part {part.File} is not the one the manifest names ({bytes.Length} bytes, sha256 {Sha256(bytes)[..12]}…; the manifest says {part.Bytes} bytes, {part.Sha256[..Math.Min(12, part.Sha256.Length)]}…)");
            }

            joined.Write(bytes);
        }

        byte[] text;
        try
        {
            text = Gunzip(joined.GetBuffer().AsSpan(0, (int)joined.Length).ToArray(), manifest.Bytes);
        }
        catch (InvalidDataException e)
        {
            throw new RoutingTablePartsException($"the joined parts are not valid gzip: {e.Message}");
        }

        if (text.Length != manifest.Bytes || Sha256(text) != manifest.Sha256)
        {
            throw new RoutingTablePartsException($"the joined table ({text.Length} bytes) does not have the manifest's size and sha256 ({manifest.Bytes} bytes)");
        }

        return Encoding.UTF8.GetString(text);
    }

    /// <summary>Parses and checks a manifest; throws <see cref="RoutingTablePartsException"/>.</summary>
    public static RoutingTableManifest ParseManifest(string manifestText)
    {
        RoutingTableManifest? manifest;
        try
        {
            manifest = Deserializer.Deserialize<RoutingTableManifest?>(manifestText);
        }
        catch (YamlException e)
        {
            throw new RoutingTablePartsException($"the manifest is not valid: line {e.Start.Line}: {e.Message}");
        }

        if (manifest is null || manifest.Kind != ManifestKind || manifest.ApiVersion != RoutingTableDocument.CurrentApiVersion)
        {
            throw new RoutingTablePartsException($"not a {ManifestKind} manifest of {RoutingTableDocument.CurrentApiVersion}");
        }

        if (manifest.Encoding != "gzip")
        {
            throw new RoutingTablePartsException($"encoding '{manifest.Encoding}' is not gzip");
        }

        if (manifest.Parts.Count == 0 || manifest.Parts.Any(p => !SafeFileName().IsMatch(p.File ?? string.Empty)))
        {
            throw new RoutingTablePartsException("the manifest names no parts, or a part file name that is not a plain file name");
        }

        return manifest;
    }

    private static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static byte[] Gzip(byte[] text)
    {
        using var output = new MemoryStream(text.Length / 4);
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(text);
        }

        return output.ToArray();
    }

    /// <summary>Decompresses at most <paramref name="expected"/> + 1 bytes (more means the manifest is wrong: no need to read on).</summary>
    private static byte[] Gunzip(byte[] compressed, long expected)
    {
        using var gzip = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
        var limit = (int)Math.Min(int.MaxValue - 64, expected + 1);
        var buffer = new byte[limit];
        var read = 0;
        while (read < limit)
        {
            var n = gzip.Read(buffer, read, limit - read);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        return read == buffer.Length ? buffer : buffer[..read];
    }

    [GeneratedRegex(@"^kind: RoutingTableParts\r?$", RegexOptions.Multiline)]
    private static partial Regex ManifestLine();

    [GeneratedRegex(@"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,252}$")]
    private static partial Regex SafeFileName();
}

/// <summary>What the operator writes for a routing table.</summary>
/// <param name="RoutesYaml">The key <c>routes.yaml</c> of the main ConfigMap: the table itself, or the manifest of its parts.</param>
/// <param name="Parts">The parts, in order; empty when the table fits in <c>routes.yaml</c>.</param>
public sealed record RoutingTableLayout(string RoutesYaml, IReadOnlyList<RoutingTablePart> Parts)
{
    /// <summary>True when <see cref="RoutesYaml"/> is a manifest.</summary>
    public bool IsSplit => Parts.Count > 0;
}

/// <summary>One part of a split table.</summary>
/// <param name="ConfigMap">The ConfigMap it is written to.</param>
/// <param name="File">Its key there, and its file name in the relay's routes volume.</param>
/// <param name="Bytes">A slice of the gzip of the table.</param>
public sealed record RoutingTablePart(string ConfigMap, string File, byte[] Bytes)
{
    /// <summary>The lower-case hex SHA-256 of <see cref="Bytes"/>.</summary>
    public string Sha256 { get; } = Convert.ToHexStringLower(SHA256.HashData(Bytes));
}

/// <summary>The manifest in <c>routes.yaml</c> of a split table (YAML, camelCase).</summary>
public sealed class RoutingTableManifest
{
    public string? ApiVersion { get; set; }

    public string? Kind { get; set; }

    public string? Encoding { get; set; }

    /// <summary>Bytes of the whole table (UTF-8).</summary>
    public long Bytes { get; set; }

    /// <summary>SHA-256 of the whole table.</summary>
    public string Sha256 { get; set; } = string.Empty;

    public List<RoutingTableManifestPart> Parts { get; set; } = [];
}

/// <summary>One entry of <see cref="RoutingTableManifest.Parts"/>.</summary>
public sealed class RoutingTableManifestPart
{
    public string? File { get; set; }

    public string? ConfigMap { get; set; }

    public long Bytes { get; set; }

    public string Sha256 { get; set; } = string.Empty;
}

/// <summary>The parts of a split table do not make the table its manifest names.</summary>
public sealed class RoutingTablePartsException(string message) : Exception(message);
