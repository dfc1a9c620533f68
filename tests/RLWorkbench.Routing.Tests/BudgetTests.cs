using RLWorkbench.Routing.Workflow;

namespace RLWorkbench.Routing.Tests;

public class BudgetTests
{
    [Fact]
    public void A_task_holds_each_call_s_worst_case_and_each_billed_call_releases_its_own()
    {
        var guard = new BudgetGuard(1.0, alreadySpentUsd: 0.1);
        Assert.True(guard.TryReserve(0, [0.3, 0.2, 0.1]));
        // 0.1 spent + 0.6 held: a second task of 0.4 does not fit, one of 0.3 does.
        Assert.False(guard.TryReserve(1, [0.2, 0.2]));
        Assert.True(guard.TryReserve(1, [0.2, 0.1]));
        Assert.Equal("$1.00 budget (spent $0.1000, $0.9000 held for the calls in flight)", guard.Describe());

        guard.Settle(0, 0.05);
        Assert.Equal("$1.00 budget (spent $0.1500, $0.6000 held for the calls in flight)", guard.Describe());
        // The chain stopped after its first step: the calls it never sent give their worst cases back.
        guard.Release(0);
        Assert.Equal("$1.00 budget (spent $0.1500, $0.3000 held for the calls in flight)", guard.Describe());
        Assert.False(guard.Holds(0));
        Assert.False(guard.OverLimit);
    }

    [Fact]
    public void A_call_billed_above_its_worst_case_puts_the_guard_over_its_limit()
    {
        var guard = new BudgetGuard(0.5);
        Assert.True(guard.TryReserve(0, [0.2, 0.3]));
        guard.Settle(0, 0.25);
        Assert.True(guard.OverLimit);
        Assert.Equal(0.25, guard.SpentUsd, 12);
    }
}
