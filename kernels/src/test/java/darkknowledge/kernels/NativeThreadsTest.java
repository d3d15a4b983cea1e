package darkknowledge.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.engine.WorkerThreads;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Engine workers' share of the native thread teams ({@link NativeThreads}). */
class NativeThreadsTest {

    @Test
    void aWorkersTeamIsItsShareOfTheThreads() {
        assertEquals(1, NativeThreads.perWorker(2, 2));
        assertEquals(1, NativeThreads.perWorker(1, 4));
        assertEquals(2, NativeThreads.perWorker(4, 2));
        assertEquals(3, NativeThreads.perWorker(7, 2));
        assertThrows(IllegalArgumentException.class, () -> NativeThreads.perWorker(0, 2));
    }

    @Test
    void eachOfTwoWorkersForksHalfTheTeamAndTheOtherThreadsKeepTheirs() throws Exception {
        Mkl.library();  // ND4J and MKL loaded, as in a training process
        int total = IntelOpenMp.maxThreads();
        assertTrue(total >= 1, "the tests preload Intel's OpenMP runtime; omp_get_max_threads() = " + total);
        AtomicReference<String> set = new AtomicReference<>();
        AtomicReference<Integer> team = new AtomicReference<>();
        Thread worker = new Thread(() -> {
            set.set(WorkerThreads.shareAll(2));  // found through ServiceLoader, as LocalEngine finds it
            team.set(IntelOpenMp.maxThreads());
        });
        worker.start();
        worker.join();
        assertEquals(Math.max(1, total / 2), team.get(), set.get());
        assertEquals(total == 1 ? "" : "OpenMP and MKL teams of " + total / 2 + " per worker (" + total
                + " threads / 2 workers)", set.get());
        assertEquals(total, IntelOpenMp.maxThreads(), "the calling thread's team is its own");
        Thread single = new Thread(() -> set.set(WorkerThreads.shareAll(1)));
        single.start();
        single.join();
        assertEquals("", set.get(), "one worker keeps the whole team");
    }

    @Test
    void aStageOnTwoWorkersHalvesTheProcessWidePoolsAndPutsThemBack() {
        OpenBlas.library();  // loaded, as once Gemm has chosen it
        var env = org.nd4j.linalg.factory.Nd4j.getEnvironment();
        int nd4j = env.maxMasterThreads();
        int openblas = OpenBlas.loadedThreads();
        Runnable restore = WorkerThreads.stageAll(2);
        if (IntelOpenMp.maxThreads() == 1) {  // OMP_NUM_THREADS=1: a stage leaves everything as it is
            restore.run();
            assertEquals(nd4j, env.maxMasterThreads());
            assertEquals(openblas, OpenBlas.loadedThreads());
            return;
        }
        try {
            assertEquals(NativeThreads.perWorker(Math.max(1, nd4j), 2), env.maxMasterThreads());
            assertEquals(NativeThreads.perWorker(openblas, 2), OpenBlas.loadedThreads());
        } finally {
            restore.run();
        }
        assertEquals(nd4j, env.maxMasterThreads());
        assertEquals(openblas, OpenBlas.loadedThreads());
        WorkerThreads.stageAll(1).run();
        assertEquals(nd4j, env.maxMasterThreads(), "one worker changes nothing");
    }
}
