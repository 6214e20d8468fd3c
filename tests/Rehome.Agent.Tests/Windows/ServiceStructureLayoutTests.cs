using System.Runtime.InteropServices;
using Rehome.Agent.Platform.Windows.Installation;

namespace Rehome.Agent.Tests.Windows;

/// <summary>The service control manager structures against their documented 64-bit sizes and offsets.</summary>
public sealed class ServiceStructureLayoutTests
{
    [Fact]
    public void Service_status_is_seven_dwords() =>
        Assert.Equal((28, 4), (Marshal.SizeOf<ServiceStructures.ServiceStatus>(), (int)Marshal.OffsetOf<ServiceStructures.ServiceStatus>(nameof(ServiceStructures.ServiceStatus.CurrentState))));

    [Fact]
    public void Failure_actions_pad_after_each_dword_before_a_pointer()
    {
        Assert.Equal(40, Marshal.SizeOf<ServiceStructures.ServiceFailureActions>());
        Assert.Equal(8, (int)Marshal.OffsetOf<ServiceStructures.ServiceFailureActions>(nameof(ServiceStructures.ServiceFailureActions.RebootMessage)));
        Assert.Equal(24, (int)Marshal.OffsetOf<ServiceStructures.ServiceFailureActions>(nameof(ServiceStructures.ServiceFailureActions.Actions)));
        Assert.Equal(32, (int)Marshal.OffsetOf<ServiceStructures.ServiceFailureActions>(nameof(ServiceStructures.ServiceFailureActions.ActionList)));
    }

    [Fact]
    public void An_action_the_description_and_a_flag_have_their_documented_sizes() =>
        Assert.Equal((8, 8, 4), (Marshal.SizeOf<ServiceStructures.ScAction>(), Marshal.SizeOf<ServiceStructures.ServiceDescription>(), Marshal.SizeOf<ServiceStructures.ServiceFlag>()));
}
