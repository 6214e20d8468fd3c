using Azure.Core;

namespace Rehome.Directory.Tests.EntraId;

/// <summary>Hands out the fake Graph's token without asking any identity provider.</summary>
public sealed class TestTokenCredential(string token = FakeGraphServer.Token) : TokenCredential
{
    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        new(token, DateTimeOffset.UtcNow.AddHours(1));

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        ValueTask.FromResult(GetToken(requestContext, cancellationToken));
}
