using MailRelay.Contracts.Patterns;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace MailRelay.Contracts.Clients;

/// <summary>The YAML shape of <c>clients.yaml</c>.</summary>
public sealed class ClientTableDocument
{
    /// <summary>The document kind.</summary>
    public const string DocumentKind = "ClientTable";

    /// <summary>Always <c>mailrelay.io/v1alpha1</c>.</summary>
    public string ApiVersion { get; set; } = RoutingTable.RoutingTableDocument.CurrentApiVersion;

    /// <summary>Always <see cref="DocumentKind"/>.</summary>
    public string Kind { get; set; } = DocumentKind;

    /// <summary>Every domain a MailDomain in effect covers.</summary>
    public List<DomainDocument> Covered { get; set; } = [];

    /// <summary>The sending identities, sorted by user.</summary>
    public List<ClientDocument> Clients { get; set; } = [];
}

/// <summary>A granted domain in <c>clients.yaml</c>.</summary>
public sealed class DomainDocument
{
    public string? Domain { get; set; }

    public bool Subdomains { get; set; }
}

/// <summary>One identity in <c>clients.yaml</c>.</summary>
public sealed class ClientDocument
{
    public string? User { get; set; }

    public string? Namespace { get; set; }

    public bool Trusted { get; set; }

    /// <summary><see cref="PasswordHash"/> form.</summary>
    public string? PasswordHash { get; set; }

    public List<DomainDocument> Domains { get; set; } = [];
}

/// <summary>Reads and writes <c>clients.yaml</c>. Rendering is deterministic: the same table gives byte-identical text.</summary>
public static class ClientTableYaml
{
    private const string Header = "# Client table of the mail relay (sending identities), written by the MailRelayOperator. Do not edit by hand.\n";

    private static readonly IDeserializer Deserializer = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .Build();

    private static readonly ISerializer Serializer = new SerializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .ConfigureDefaultValuesHandling(DefaultValuesHandling.Preserve)
        .WithIndentedSequences()
        .Build();

    /// <summary>Parses and checks a client table; throws <see cref="FormatException"/> listing every problem (never a hash).</summary>
    public static ClientTable Parse(string yaml)
    {
        ClientTableDocument? doc;
        try
        {
            doc = Deserializer.Deserialize<ClientTableDocument?>(yaml);
        }
        catch (YamlException e)
        {
            throw new FormatException($"line {e.Start.Line}, column {e.Start.Column}: {e.Message}");
        }

        if (doc is null)
        {
            throw new FormatException("the file is empty");
        }

        var errors = new List<string>();
        if (doc.Kind != ClientTableDocument.DocumentKind)
        {
            errors.Add($"kind '{doc.Kind}' is not {ClientTableDocument.DocumentKind}");
        }

        var covered = Domains(doc.Covered, "covered", errors);
        var clients = new List<ClientEntry>();
        var users = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < doc.Clients.Count; i++)
        {
            var c = doc.Clients[i];
            var where = $"clients[{i}]";
            if (string.IsNullOrEmpty(c.User) || c.User.Contains(':'))
            {
                errors.Add($"{where}: user is empty or has ':'");
                continue;
            }

            if (!users.Add(c.User))
            {
                errors.Add($"{where}: user {c.User} is listed twice");
            }

            if (c.PasswordHash is null || !PasswordHash.IsWellFormed(c.PasswordHash))
            {
                errors.Add($"{where} ({c.User}): passwordHash is not {PasswordHash.Scheme}$ITERATIONS$SALT$HASH");
                continue;
            }

            clients.Add(new ClientEntry(c.User, c.Namespace ?? string.Empty, c.Trusted, c.PasswordHash, Domains(c.Domains, where + ".domains", errors)));
        }

        if (errors.Count > 0)
        {
            throw new FormatException(string.Join("; ", errors));
        }

        return new ClientTable(clients.OrderBy(c => c.User, StringComparer.Ordinal).ToList(), covered);
    }

    /// <summary>Renders a table: identities sorted by user, domains in order.</summary>
    public static string Render(ClientTable table) =>
        Header + Serializer.Serialize(new ClientTableDocument
        {
            Covered = table.Covered.Select(ToDocument).ToList(),
            Clients = table.Clients.OrderBy(c => c.User, StringComparer.Ordinal).Select(c => new ClientDocument
            {
                User = c.User,
                Namespace = c.Namespace,
                Trusted = c.Trusted,
                PasswordHash = c.PasswordHash,
                Domains = c.Domains.Select(ToDocument).ToList(),
            }).ToList(),
        });

    private static DomainDocument ToDocument(DomainGrant g) => new() { Domain = g.Domain, Subdomains = g.Subdomains };

    private static List<DomainGrant> Domains(List<DomainDocument>? documents, string where, List<string> errors)
    {
        var result = new List<DomainGrant>();
        foreach (var d in documents ?? [])
        {
            try
            {
                result.Add(new DomainGrant(DomainName.Normalize(d.Domain ?? string.Empty), d.Subdomains));
            }
            catch (PatternException e)
            {
                errors.Add($"{where}: {e.Message}");
            }
        }

        return result;
    }
}
