using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Server.Store;

namespace Rehome.Server.Tests.Infrastructure;

public static class StoreFingerprint
{
    /// <summary>
    /// Every table of the store, its row count and a hash of its rows: equal before and after a refused request
    /// means the refusal changed nothing (audit log included).
    /// </summary>
    public static async Task<string> FingerprintAsync(this ServerHost host)
    {
        await using var scope = host.Scope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync();
        var fingerprint = new StringBuilder();
        foreach (var table in db.Model.GetEntityTypes().Select(t => t.GetTableName()!).Distinct().Order())
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT * FROM \"{table}\"";
            await using var reader = await command.ExecuteReaderAsync();
            var rows = new List<string>();
            while (await reader.ReadAsync())
            {
                rows.Add(string.Join("|", Enumerable.Range(0, reader.FieldCount).Select(i => Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
            }
            rows.Sort(StringComparer.Ordinal);
            fingerprint.Append(table).Append(':').Append(rows.Count).Append(':')
                .Append(Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", rows))))).Append('\n');
        }
        return fingerprint.ToString();
    }
}
