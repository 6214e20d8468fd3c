using Rehome.Directory.EntraId;
using Rehome.Directory.Identity;

namespace Rehome.Directory.Tests.EntraId;

public sealed class EntraIdDirectoryTests : IAsyncLifetime
{
    private FakeGraphServer graph = null!;

    public async Task InitializeAsync() => graph = await FakeGraphServer.StartAsync("Destination Ltd", "dst.example");

    public async Task DisposeAsync() => await graph.DisposeAsync();

    [Fact]
    public async Task Connection_test_reads_the_tenant_and_probes_each_permission()
    {
        using var directory = graph.Directory();

        var result = await directory.TestConnectionAsync();

        Assert.True(result.Succeeded, string.Join("; ", result.Checks));
        Assert.Equal(["Tenant", "Read devices", "Read groups", "Read users", "Windows Autopilot"], result.Checks.Select(check => check.Name));
        Assert.Equal($"Destination Ltd ({graph.TenantId}), default domain dst.example.", result.Checks[0].Detail);
    }

    [Fact]
    public async Task Connection_test_with_a_token_graph_rejects_fails_at_the_tenant_check_with_graphs_words()
    {
        using var directory = graph.Directory(token: "expired");

        var result = await directory.TestConnectionAsync();

        var tenant = Assert.Single(result.Checks);
        Assert.False(tenant.Passed);
        Assert.Contains("HTTP 401", tenant.Detail, StringComparison.Ordinal);
        Assert.Contains("Access token validation failure", tenant.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_device_is_found_by_name_and_by_device_id()
    {
        var deviceId = Guid.NewGuid();
        var objectId = graph.AddDevice("PC-O'NEIL", deviceId);
        graph.AddDevice("PC-OTHER", Guid.NewGuid());
        using var directory = graph.Directory();

        var byName = Assert.Single(await directory.FindDevicesByNameAsync("PC-O'NEIL"));
        var byDeviceId = await directory.FindDeviceByDeviceIdAsync(deviceId);

        Assert.Equal(new EntraDevice(objectId, deviceId.ToString(), "PC-O'NEIL", "Windows", "AzureAd"), byName);
        Assert.Equal(byName, byDeviceId);
        Assert.Empty(await directory.FindDevicesByNameAsync("PC-MISSING"));
        Assert.Null(await directory.FindDeviceByDeviceIdAsync(Guid.NewGuid()));
    }

    [Fact]
    public async Task Direct_memberships_are_the_device_groups_and_transitive_ones_add_the_nesting_groups()
    {
        var device = graph.AddDevice("PC-01", Guid.NewGuid());
        var direct = Enumerable.Range(1, 5).Select(number => graph.AddGroup($"Direct {number}", true, device)).ToList();
        var parent = graph.AddGroup("Parent", true, direct[0]);
        var grandparent = graph.AddGroup("Grandparent", true, parent);
        graph.AddRole("Cloud Device Administrator", device);
        using var directory = graph.Directory();

        var directGroups = await directory.GetDeviceGroupsAsync(device, transitive: false);
        var allGroups = await directory.GetDeviceGroupsAsync(device, transitive: true);

        Assert.Equal(direct.Order(), directGroups.Select(group => group.Id).Order());
        Assert.Equal(direct.Append(parent).Append(grandparent).Order(), allGroups.Select(group => group.Id).Order());
        // Five groups and a role in pages of three: the next link was followed.
        Assert.Contains(graph.Requests(), request => request.Contains("memberOf?$skiptoken=3", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Users_are_listed_across_pages_in_order()
    {
        var upns = Enumerable.Range(1, 8).Select(number => $"user{number}@dst.example").ToList();
        upns.ForEach(upn => graph.AddUser(upn, upn.Split('@')[0]));
        using var directory = graph.Directory();

        var listed = await directory.ListUsersAsync().ToListAsync();

        Assert.Equal(upns, listed.Select(user => user.UserPrincipalName));
        Assert.Equal(3, graph.Requests().Count(request => request.StartsWith("GET /users", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Identities_carry_the_sids_windows_gives_entra_users_and_security_groups()
    {
        var userId = graph.AddUser("alice@dst.example", "Alice");
        var groupId = graph.AddGroup("Engineers");
        graph.AddGroup("Newsletter", securityEnabled: false);
        using var directory = graph.Directory();

        var identities = await DirectoryIdentityLoader.LoadAsync(directory);

        Assert.Equal(2, identities.Count);
        Assert.Equal(new DirectoryIdentity(DirectoryIdentityKind.User, SecurityIdentifierText.FromEntraObjectId(Guid.Parse(userId)),
            null, "alice@dst.example", "Alice", "dst.example"), identities[0]);
        Assert.Equal(SecurityIdentifierText.FromEntraObjectId(Guid.Parse(groupId)), identities[1].Sid);
        Assert.Equal(DirectoryIdentityKind.Group, identities[1].Kind);
    }

    [Fact]
    public async Task Destination_groups_resolve_by_explicit_mapping_first_then_by_display_name_with_reasons_otherwise()
    {
        var sameName = graph.AddGroup("Finance");
        var mappedByName = graph.AddGroup("Finance EU");
        var mappedById = graph.AddGroup("Sales (new)");
        graph.AddGroup("Twice");
        graph.AddGroup("Twice");
        using var directory = graph.Directory();
        EntraGroup Source(string name) => new(Guid.NewGuid().ToString(), name, true, null);
        var sales = Source("Sales");
        var mapping = new Dictionary<string, string> { ["finance-emea"] = "Finance EU", [sales.Id] = mappedById, ["Gone"] = Guid.NewGuid().ToString() };

        var resolutions = await directory.ResolveGroupsAsync(
            [Source("Finance"), Source("Finance-EMEA"), sales, Source("Twice"), Source("Nowhere"), Source("Gone")], mapping);

        Assert.Equal(sameName, resolutions[0].Destination?.Id);
        Assert.Equal(mappedByName, resolutions[1].Destination?.Id);
        Assert.Equal(mappedById, resolutions[2].Destination?.Id);
        Assert.Contains("2 destination groups are named 'Twice'", resolutions[3].Message, StringComparison.Ordinal);
        Assert.Contains("No destination group is named 'Nowhere'", resolutions[4].Message, StringComparison.Ordinal);
        Assert.Contains("does not exist in the destination tenant", resolutions[5].Message, StringComparison.Ordinal);
        Assert.Equal([true, true, true, false, false, false], resolutions.Select(resolution => resolution.Resolved));
    }

    [Fact]
    public async Task Adding_a_device_to_many_groups_batches_by_twenty_and_reports_each_group()
    {
        var device = graph.AddDevice("PC-02", Guid.NewGuid());
        var fresh = Enumerable.Range(1, 43).Select(number => graph.AddGroup($"Group {number}")).ToList();
        var already = graph.AddGroup("Already", true, device);
        var missing = Guid.NewGuid().ToString();
        using var directory = graph.Directory();

        var results = await directory.AddDeviceToGroupsAsync(device, [.. fresh, already, missing]);

        Assert.Equal([20, 20, 5], graph.BatchSizes());
        Assert.Equal([.. fresh, already, missing], results.Select(result => result.GroupId));
        Assert.All(results.Take(43), result => Assert.Equal(GroupMembershipOutcome.Added, result.Outcome));
        Assert.All(fresh, group => Assert.True(graph.IsMember(group, device)));
        Assert.Equal(GroupMembershipOutcome.AlreadyMember, results[43].Outcome);
        Assert.Equal((GroupMembershipOutcome.Failed, 404, false), (results[44].Outcome, results[44].StatusCode, results[44].Retryable));
        Assert.Contains("does not exist", results[44].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Throttled_batch_items_are_sent_again_after_retry_after_and_end_added()
    {
        var device = graph.AddDevice("PC-03", Guid.NewGuid());
        var groups = Enumerable.Range(1, 6).Select(number => graph.AddGroup($"Throttled {number}")).ToList();
        graph.ThrottleBatchItems(count: 4, retryAfterSeconds: 1);
        using var directory = graph.Directory();

        var results = await directory.AddDeviceToGroupsAsync(device, groups);

        Assert.All(results, result => Assert.Equal(GroupMembershipOutcome.Added, result.Outcome));
        Assert.Equal([6, 4], graph.BatchSizes());
    }

    [Fact]
    public async Task Batch_items_throttled_beyond_the_retries_are_reported_retryable_and_an_all_failed_batch_is_an_outage()
    {
        var device = graph.AddDevice("PC-04", Guid.NewGuid());
        var group = graph.AddGroup("Busy");
        graph.ThrottleBatchItems(count: 100, retryAfterSeconds: 0);
        using var directory = new GraphEntraIdDirectory(graph.Options() with { BatchItemRetries = 2 }, new TestTokenCredential());

        var exception = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => directory.AddDeviceToGroupsAsync(device, [group]));

        Assert.Contains("429", exception.Message, StringComparison.Ordinal);
        Assert.Equal([1, 1, 1], graph.BatchSizes());
        Assert.False(graph.IsMember(group, device));
    }

    [Fact]
    public async Task A_throttled_request_is_retried_after_retry_after_by_the_sdk()
    {
        graph.AddDevice("PC-05", Guid.NewGuid());
        graph.Fail("/devices", count: 1, status: 429, retryAfterSeconds: 1);
        using var directory = graph.Directory();

        var found = await directory.FindDevicesByNameAsync("PC-05");

        Assert.Single(found);
        Assert.Equal(2, graph.Requests().Count(request => request.StartsWith("GET /devices", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task An_outage_that_outlasts_the_retries_is_a_retryable_error_with_the_reason()
    {
        graph.Fail("/devices", count: -1, status: 503, retryAfterSeconds: 0);
        using var directory = graph.Directory();

        var exception = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => directory.FindDevicesByNameAsync("PC-06"));

        Assert.Contains("Microsoft Graph is unavailable while finding devices (HTTP 503", exception.Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.Zero, exception.RetryAfter);
        Assert.True(graph.Requests().Count(request => request.StartsWith("GET /devices", StringComparison.Ordinal)) > 1);
    }

    [Fact]
    public async Task A_graph_that_cannot_be_reached_is_a_retryable_error()
    {
        var options = graph.Options() with { GraphBaseUrl = new Uri("http://127.0.0.1:9/v1.0") };
        using var directory = new GraphEntraIdDirectory(options, new TestTokenCredential());

        var exception = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => directory.ReadTenantAsync());

        Assert.Contains("cannot be reached", exception.Message, StringComparison.Ordinal);
    }
}
