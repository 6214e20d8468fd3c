using Microsoft.AspNetCore.Components.Authorization;
using Rehome.Server.Api;
using Rehome.Server.Audit;

namespace Rehome.Server.Console;

/// <summary>
/// Runs each console action in its own service scope (a fresh store context, as one API request has), acting
/// as the signed-in administrator: an interactive page lives for minutes over its circuit, and one long-lived
/// context would serve stale rows and cannot run two queries at once.
/// </summary>
public sealed class ConsoleSession(IServiceScopeFactory scopes, AuthenticationStateProvider authentication)
{
    public async Task<T> RunAsync<T>(Func<IServiceProvider, Task<T>> work)
    {
        var user = (await authentication.GetAuthenticationStateAsync()).User;
        if (user.Identity?.IsAuthenticated != true)
        {
            // The page's session ended while it was open (signed out elsewhere, disabled): it acts for nobody.
            throw new InvalidOperationException("The console session has ended; sign in again.");
        }
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<AuditTrail>().ActAs(user.Identity?.Name);
        return await work(scope.ServiceProvider);
    }

    /// <summary>Resolves <typeparamref name="TService"/> in a fresh scope and runs <paramref name="work"/> with it.</summary>
    public Task<T> RunAsync<TService, T>(Func<TService, Task<T>> work)
        where TService : notnull =>
        RunAsync(services => work(services.GetRequiredService<TService>()));

    public async Task<Guid> AccountIdAsync() => AuthApi.AccountId((await authentication.GetAuthenticationStateAsync()).User);
}
